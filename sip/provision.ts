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
 *   --direct-user U --direct-password P --direct-address CIDR (repeatable)
 *                                           who may call the direct trunk: your carrier's signalling
 *                                           addresses and/or digest credentials. With --twilio-path
 *                                           trunk the addresses default to Twilio's documented ranges.
 *   --allow-open-trunk                       create the direct trunk with neither (refused otherwise;
 *                                           any SIP client could then call with any caller number)
 *
 * The Twilio side (with TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER set, via the
 * `twilio` SDK, see sip/twilio.ts):
 *   --twilio-path voice   (default) Programmable Voice: the number's voice URL and status callback
 *                         point at PUBLIC_BASE_URL/twilio/voice and /twilio/status; LiveKit gets the
 *                         trunk Twilio's <Dial><Sip> uses (digest credentials default to
 *                         LIVEKIT_SIP_USERNAME / LIVEKIT_SIP_PASSWORD).
 *   --twilio-path trunk   Elastic SIP trunk "practice-line" with origination URI
 *                         sip:LIVEKIT_SIP_HOST;transport=tcp holding the number; LiveKit gets the
 *                         direct trunk for that number (the agent asks for the PIN).
 *   --voice-fallback-url URL  where Twilio goes when the voice URL fails or times out (voice path):
 *                         a second instance's /twilio/voice, or by default Twilio's own "message"
 *                         Twimlet saying sorry (TwiML Bins cannot be created through the API).
 *   --skip-twilio-account leave the Twilio account alone (LiveKit side only)
 * Every step is printed as it happens; --dry-run prints what would change and writes nothing.
 */
import { parseArgs } from 'node:util';
import { SipClient } from 'livekit-server-sdk';
import { loadConfig, publicUrlProblem } from '../src/config.js';
import { buildPracticeLinePlan, ensureSip, formatActions, isOpenTrunk, TWILIO_SIGNALLING_RANGES, type PracticeLinePlanInput } from './ensure.js';
import { readStackState } from './stack/stack.js';
import { createTwilioRestClient, ensureTwilio, formatTwilioActions, type TwilioPlan } from './twilio.js';

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
      'allow-open-trunk': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'twilio-path': { type: 'string', default: 'voice' },
      'skip-twilio-account': { type: 'boolean', default: false },
      'voice-fallback-url': { type: 'string' },
    },
  });
  const twilioPath = values['twilio-path'];
  if (twilioPath !== 'voice' && twilioPath !== 'trunk') throw new Error(`--twilio-path must be voice or trunk, not "${twilioPath}"`);
  const step = (message: string): void => {
    // Progress goes to stderr so --json output stays parseable.
    console.error(`${values['dry-run'] ? '[dry-run] ' : ''}${message}`);
  };
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
  const twilioUser = values['twilio-user'] ?? config.LIVEKIT_SIP_USERNAME;
  const twilioPassword = values['twilio-password'] ?? config.LIVEKIT_SIP_PASSWORD;
  const hasAuth = twilioUser !== undefined && twilioPassword !== undefined;
  // On the trunk path Twilio reaches LiveKit through the direct trunk; the <Dial><Sip> trunk is
  // only kept when it was asked for (credentials or addresses given).
  const skipVoiceTrunk = twilioPath === 'trunk' && !hasAuth && values['twilio-address'] === undefined;
  if (values['no-twilio'] || skipVoiceTrunk) input.twilio = false;
  else {
    if (!hasAuth && values['twilio-address'] === undefined) {
      throw new Error(
        'the Twilio trunk must be protected: set LIVEKIT_SIP_USERNAME and LIVEKIT_SIP_PASSWORD (or pass --twilio-user U ' +
          '--twilio-password P; the dispatch service gives the same ones to <Dial><Sip>) and/or --twilio-address CIDR ' +
          '(repeatable), or --no-twilio',
      );
    }
    input.twilio = {};
    if (twilioUser !== undefined) input.twilio.authUsername = twilioUser;
    if (twilioPassword !== undefined) input.twilio.authPassword = twilioPassword;
    if (values['twilio-address'] !== undefined) input.twilio.allowedAddresses = values['twilio-address'];
  }
  const directNumbers = [...(values['direct-number'] ?? [])];
  if (twilioPath === 'trunk' && config.TWILIO_PHONE_NUMBER !== undefined && !directNumbers.includes(config.TWILIO_PHONE_NUMBER)) {
    directNumbers.push(config.TWILIO_PHONE_NUMBER);
  }
  if (directNumbers.length > 0) {
    input.direct = { numbers: directNumbers };
    if (values['direct-user'] !== undefined) input.direct.authUsername = values['direct-user'];
    if (values['direct-password'] !== undefined) input.direct.authPassword = values['direct-password'];
    if (values['direct-address'] !== undefined) input.direct.allowedAddresses = values['direct-address'];
    // On the trunk path the carrier is Twilio: only its signalling addresses may reach the trunk.
    else if (twilioPath === 'trunk') input.direct.allowedAddresses = [...TWILIO_SIGNALLING_RANGES];
    if (values['allow-open-trunk']) input.direct.allowOpen = true;
  }

  // The SDK wants an http(s) origin; LIVEKIT_URL is often the ws(s) one.
  const host = server.url.replace(/^ws(s?):\/\//, 'http$1://');
  step(`livekit: provisioning SIP trunks and dispatch rules on ${host}`);
  const plan = buildPracticeLinePlan(input);
  for (const trunk of plan.trunks.filter(isOpenTrunk)) {
    step(
      `warning: trunk ${trunk.name} is OPEN (--allow-open-trunk): any SIP client can call it and claim any caller number. ` +
        'Keep CALLER_ID_TRUST_SIP=none so every caller keys a PIN, and restrict it (--direct-address / --direct-user) as soon as you can.',
    );
  }
  const result = await ensureSip(new SipClient(host, server.apiKey, server.apiSecret), plan, {
    dryRun: values['dry-run'],
  });
  if (!values.json) console.log(formatActions(result));

  step(webhookNote(host, config.PUBLIC_BASE_URL));

  const fallbackUrl = values['voice-fallback-url'] ?? apologyTwimlet;
  const twilioResult = await provisionTwilio(config, twilioPath, values['dry-run'], values['skip-twilio-account'], step, state?.sipAddress, fallbackUrl);
  if (values.json) console.log(JSON.stringify({ livekit: result, twilio: twilioResult ?? null }, null, 2));
  else if (twilioResult !== undefined) console.log(formatTwilioActions(twilioResult));
  const changed = [...result.actions, ...(twilioResult?.actions ?? [])].filter((a) => a.action !== 'keep').length;
  step(changed === 0 ? 'done: nothing to change' : `done: ${changed} change(s)${values['dry-run'] ? ' planned, nothing written' : ''}`);
}

/** Twilio's hosted "message" Twimlet: answers any request with this <Say>, independent of us. */
const apologyTwimlet = `https://twimlets.com/message?${new URLSearchParams({
  'Message[0]': 'Sorry, Practice Line cannot take your call right now. Please try again in a few minutes. Goodbye.',
})}`;

/**
 * LiveKit's server API has no call to read or set a project's webhooks, so this cannot be checked:
 * say where the setting lives. Self-hosted, docker-compose.yml turns the webhook on itself.
 */
function webhookNote(livekitHost: string, publicBaseUrl: string): string {
  const url = `${publicBaseUrl}/livekit/webhook`;
  return /\.livekit\.cloud(:\d+)?$/.test(new URL(livekitHost).host)
    ? `livekit: webhooks cannot be read through the API; check that ${url} is listed in your LiveKit Cloud project (Settings > Webhooks), signed with the API key in .env`
    : `livekit: self-hosted; the webhook to the dispatch service is set in livekit-server's config (docker-compose.yml LIVEKIT_CONFIG), not through the API`;
}

async function provisionTwilio(
  config: ReturnType<typeof loadConfig>,
  path: 'voice' | 'trunk',
  dryRun: boolean,
  skip: boolean,
  step: (message: string) => void,
  stackSipAddress: string | undefined,
  voiceFallbackUrl: string,
) {
  if (skip) {
    step('twilio: skipped (--skip-twilio-account)');
    return undefined;
  }
  const missing = (['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_PHONE_NUMBER'] as const).filter((key) => config[key] === undefined);
  if (missing.length > 0) {
    step(`twilio: skipped (set ${missing.join(', ')} to provision the Twilio number too)`);
    return undefined;
  }
  let plan: TwilioPlan;
  if (path === 'voice') {
    const warning = publicUrlProblem(config.PUBLIC_BASE_URL);
    // Not a log line: printed on its own, where the operator running this reads it.
    if (warning !== undefined) console.error(`\n${warning}\n`);
    plan = {
      phoneNumber: config.TWILIO_PHONE_NUMBER!,
      path: {
        type: 'voice',
        voiceUrl: `${config.PUBLIC_BASE_URL}/twilio/voice`,
        statusCallback: `${config.PUBLIC_BASE_URL}/twilio/status`,
        voiceFallbackUrl,
      },
    };
  } else {
    const sipHost = config.LIVEKIT_SIP_HOST ?? stackSipAddress;
    if (sipHost === undefined) throw new Error('--twilio-path trunk needs LIVEKIT_SIP_HOST (the host Twilio sends calls to, e.g. abc123.sip.livekit.cloud)');
    plan = { phoneNumber: config.TWILIO_PHONE_NUMBER!, path: { type: 'trunk', originationSipUri: `sip:${sipHost};transport=tcp` } };
  }
  const client = createTwilioRestClient({
    accountSid: config.TWILIO_ACCOUNT_SID!,
    authToken: config.TWILIO_AUTH_TOKEN!,
    ...(config.TWILIO_API_BASE_URL === undefined ? {} : { apiBaseUrl: config.TWILIO_API_BASE_URL }),
  });
  return ensureTwilio(client, plan, { dryRun, onStep: step });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
