/**
 * `npm run sip:provision [-- --dry-run]` — creates or updates the LiveKit SIP trunks and
 * dispatch rules Practice Line needs (see sip/ensure.ts), by name, idempotently.
 *
 * LiveKit URL/keys and the agent name come from the environment (src/config.ts); with
 * `--stack` (or when LIVEKIT_* are unset and `npm run stack:up` is running) the local stack
 * from .stack/state.json is used. Trunk details are flags:
 *   --twilio-user U --twilio-password P      digest auth for the Twilio trunk
 *   --twilio-address CIDR                    (repeatable) Twilio's signalling addresses
 *   --no-twilio                              skip the Twilio path
 *   --direct-number +1555…                   (repeatable) numbers of the direct SIP trunk
 *   --direct-user U --direct-password P --direct-address CIDR
 */
import { parseArgs } from 'node:util';
import { SipClient } from 'livekit-server-sdk';
import { loadConfig } from '../src/config.js';
import { buildPracticeLinePlan, ensureSip, formatActions, type PracticeLinePlanInput } from './ensure.js';
import { readStackState } from './stack/stack.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'dry-run': { type: 'boolean', default: false },
      stack: { type: 'boolean', default: false },
      'no-twilio': { type: 'boolean', default: false },
      'twilio-user': { type: 'string' },
      'twilio-password': { type: 'string' },
      'twilio-address': { type: 'string', multiple: true },
      'direct-number': { type: 'string', multiple: true },
      'direct-user': { type: 'string' },
      'direct-password': { type: 'string' },
      'direct-address': { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    },
  });
  const config = loadConfig();
  const state = readStackState();
  let server: { url: string; apiKey: string; apiSecret: string };
  if (!values.stack && config.LIVEKIT_URL !== undefined && config.LIVEKIT_API_KEY !== undefined && config.LIVEKIT_API_SECRET !== undefined) {
    server = { url: config.LIVEKIT_URL, apiKey: config.LIVEKIT_API_KEY, apiSecret: config.LIVEKIT_API_SECRET };
  } else if (state !== undefined) {
    server = { url: state.httpUrl, apiKey: state.apiKey, apiSecret: state.apiSecret };
  } else {
    throw new Error('no LiveKit server: set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, or run `npm run stack:up`');
  }

  const input: PracticeLinePlanInput = { agentName: config.LIVEKIT_AGENT_NAME };
  if (values['no-twilio']) input.twilio = false;
  else {
    const hasAuth = values['twilio-user'] !== undefined && values['twilio-password'] !== undefined;
    if (!hasAuth && values['twilio-address'] === undefined) {
      throw new Error(
        'the Twilio trunk must be protected: pass --twilio-user U --twilio-password P (the same credentials the ' +
          '<Dial><Sip> uses) and/or --twilio-address CIDR (repeatable), or --no-twilio',
      );
    }
    input.twilio = {};
    if (values['twilio-user'] !== undefined) input.twilio.authUsername = values['twilio-user'];
    if (values['twilio-password'] !== undefined) input.twilio.authPassword = values['twilio-password'];
    if (values['twilio-address'] !== undefined) input.twilio.allowedAddresses = values['twilio-address'];
  }
  if (values['direct-number'] !== undefined) {
    input.direct = { numbers: values['direct-number'] };
    if (values['direct-user'] !== undefined) input.direct.authUsername = values['direct-user'];
    if (values['direct-password'] !== undefined) input.direct.authPassword = values['direct-password'];
    if (values['direct-address'] !== undefined) input.direct.allowedAddresses = values['direct-address'];
  }

  // The SDK wants an http(s) origin; LIVEKIT_URL is often the ws(s) one.
  const host = server.url.replace(/^ws(s?):\/\//, 'http$1://');
  const result = await ensureSip(new SipClient(host, server.apiKey, server.apiSecret), buildPracticeLinePlan(input), {
    dryRun: values['dry-run'],
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : formatActions(result));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
