/**
 * Idempotent provisioning of the Twilio side of Practice Line, through the `twilio` SDK.
 *
 *   const client = createTwilioRestClient({ accountSid, authToken });
 *   const result = await ensureTwilio(client, {
 *     phoneNumber: '+15551234567',
 *     path: { type: 'voice', voiceUrl: 'https://practice.example.com/twilio/voice', statusCallback: '…/twilio/status' },
 *   }, { dryRun: false, onStep: console.log });
 *
 * Two ways a call reaches LiveKit (docs/architecture.md):
 * - `voice` (Programmable Voice, the default): the number's voice URL points at our dispatch
 *   service, which asks for the PIN and answers with `<Dial><Sip>` into the room it created.
 * - `trunk` (Elastic SIP trunking, "direct"): the number belongs to a Twilio SIP trunk whose
 *   origination URI is LiveKit's SIP endpoint; the agent asks for the PIN itself.
 * Objects are found by friendly name / phone number and only changed when a field differs, so
 * a second run changes nothing. Nothing outside the plan is deleted.
 */
import twilio from 'twilio';
import type TwilioRequestClient from 'twilio/lib/base/RequestClient.js';

type TwilioClient = ReturnType<typeof twilio>;

export interface TwilioRestClientOptions {
  accountSid: string;
  authToken: string;
  /**
   * Send every request to this origin instead of https://<product>.twilio.com (tests: a
   * loopback emulation). The path is kept, and the original host rides in X-Twilio-Host.
   */
  apiBaseUrl?: string;
}

/**
 * The SDK builds absolute https://api.twilio.com/… and https://trunking.twilio.com/… URLs inside
 * each domain class and only lets edge/region change the host name; its documented seam for
 * anything else is a custom `httpClient`, so we rewrite the URL there.
 */
class RebasingRequestClient extends twilio.RequestClient {
  constructor(private readonly base: URL) {
    super({ autoRetry: true, maxRetries: 3 });
  }

  override request<TData>(opts: TwilioRequestClient.RequestOptions<TData>) {
    const original = new URL(opts.uri);
    const rebased = new URL(original.pathname + original.search, this.base);
    const rebasedOpts = { ...opts };
    rebasedOpts.uri = rebased.href;
    rebasedOpts.headers = { ...opts.headers, 'X-Twilio-Host': original.host };
    return super.request<TData>(rebasedOpts);
  }
}

export function createTwilioRestClient(options: TwilioRestClientOptions): TwilioClient {
  const clientOptions: twilio.ClientOpts = { autoRetry: true, maxRetries: 3 };
  if (options.apiBaseUrl !== undefined) clientOptions.httpClient = new RebasingRequestClient(new URL(options.apiBaseUrl));
  return twilio(options.accountSid, options.authToken, clientOptions);
}

export type TwilioPathPlan =
  | {
      type: 'voice';
      voiceUrl: string;
      statusCallback: string;
      /** Where Twilio goes when the voice URL fails or times out: a second instance, or a static apology. */
      voiceFallbackUrl: string;
    }
  | {
      type: 'trunk';
      /** Friendly name of the Elastic SIP trunk; default 'practice-line'. */
      trunkName?: string;
      /** LiveKit's SIP endpoint, e.g. sip:abc123.sip.livekit.cloud;transport=tcp */
      originationSipUri: string;
    };

export interface TwilioPlan {
  /** E.164 number already bought on the account. */
  phoneNumber: string;
  path: TwilioPathPlan;
}

export interface TwilioAction {
  object: 'phone-number' | 'sip-trunk' | 'origination-uri' | 'trunk-number';
  name: string;
  action: 'create' | 'update' | 'keep' | 'remove';
  /** Undefined only for a create in a dry run. */
  id: string | undefined;
  /** Fields that differ, as `field: old -> new` (no secrets are involved on this side). */
  changes: string[];
}

export interface TwilioResult {
  dryRun: boolean;
  actions: TwilioAction[];
}

export interface EnsureTwilioOptions {
  dryRun?: boolean;
  /** Called before each step with a one-line description, for progress output. */
  onStep?: (message: string) => void;
}

export class TwilioNumberNotFoundError extends Error {
  readonly code = 'twilio_number_not_found';
  constructor(phoneNumber: string, accountSid: string) {
    super(
      `the number ${phoneNumber} is not on Twilio account ${accountSid}: buy it (Console > Phone Numbers > Buy a number) ` +
        'or fix TWILIO_PHONE_NUMBER (E.164, e.g. +15551234567)',
    );
    this.name = 'TwilioNumberNotFoundError';
  }
}

const show = (value: unknown): string => (value === null || value === undefined || value === '' ? '(none)' : String(value));

function changesOf(have: Record<string, unknown>, want: Record<string, unknown>): string[] {
  return Object.keys(want)
    .filter((key) => String(have[key] ?? '') !== String(want[key] ?? ''))
    .map((key) => `${key}: ${show(have[key])} -> ${show(want[key])}`);
}

const sameMethod = (method: string | null | undefined): string => (method ?? '').toUpperCase();

/** Makes the Twilio account match `plan`; see the file comment. */
export async function ensureTwilio(client: TwilioClient, plan: TwilioPlan, options: EnsureTwilioOptions = {}): Promise<TwilioResult> {
  const dryRun = options.dryRun ?? false;
  const step = options.onStep ?? (() => undefined);
  const result: TwilioResult = { dryRun, actions: [] };

  step(`twilio: looking up ${plan.phoneNumber}`);
  const numbers = await client.incomingPhoneNumbers.list({ phoneNumber: plan.phoneNumber, limit: 20 });
  const number = numbers.find((n) => n.phoneNumber === plan.phoneNumber);
  if (number === undefined) throw new TwilioNumberNotFoundError(plan.phoneNumber, client.accountSid);

  if (plan.path.type === 'voice') {
    // A number on a SIP trunk ignores its voice URL: take it off the trunk first.
    if (number.trunkSid) {
      step(`twilio: ${plan.phoneNumber} is on SIP trunk ${number.trunkSid}; the voice path needs it off`);
      if (!dryRun) await client.trunking.v1.trunks(number.trunkSid).phoneNumbers(number.sid).remove();
      result.actions.push({ object: 'trunk-number', name: plan.phoneNumber, action: 'remove', id: number.sid, changes: [`trunkSid: ${number.trunkSid} -> (none)`] });
    }
    const have = {
      voiceUrl: number.voiceUrl,
      voiceMethod: sameMethod(number.voiceMethod),
      statusCallback: number.statusCallback,
      statusCallbackMethod: sameMethod(number.statusCallbackMethod),
      voiceFallbackUrl: number.voiceFallbackUrl,
      voiceFallbackMethod: sameMethod(number.voiceFallbackMethod),
      voiceApplicationSid: number.voiceApplicationSid,
    };
    const want = {
      voiceUrl: plan.path.voiceUrl,
      voiceMethod: 'POST',
      statusCallback: plan.path.statusCallback,
      statusCallbackMethod: 'POST',
      voiceFallbackUrl: plan.path.voiceFallbackUrl,
      voiceFallbackMethod: 'POST',
      // A TwiML app on the number would win over the voice URL.
      voiceApplicationSid: '',
    };
    const changes = changesOf(have, want);
    step(`twilio: ${plan.phoneNumber} voice URL, fallback URL and status callback ${changes.length > 0 ? (dryRun ? 'would change' : 'updating') : 'already set'}`);
    if (changes.length > 0 && !dryRun) await client.incomingPhoneNumbers(number.sid).update(want);
    result.actions.push({ object: 'phone-number', name: plan.phoneNumber, action: changes.length > 0 ? 'update' : 'keep', id: number.sid, changes });
    return result;
  }

  const trunkName = plan.path.trunkName ?? 'practice-line';
  step(`twilio: looking up SIP trunk "${trunkName}"`);
  const trunks = (await client.trunking.v1.trunks.list()).filter((t) => t.friendlyName === trunkName);
  if (trunks.length > 1) throw new Error(`two Twilio SIP trunks are named "${trunkName}"; delete one so provisioning can find it by name`);
  let trunkSid = trunks[0]?.sid;
  if (trunkSid === undefined) {
    step(`twilio: SIP trunk "${trunkName}" ${dryRun ? 'would be created' : 'creating'}`);
    if (!dryRun) trunkSid = (await client.trunking.v1.trunks.create({ friendlyName: trunkName })).sid;
    result.actions.push({ object: 'sip-trunk', name: trunkName, action: 'create', id: trunkSid, changes: [] });
  } else {
    result.actions.push({ object: 'sip-trunk', name: trunkName, action: 'keep', id: trunkSid, changes: [] });
  }

  const uriName = `${trunkName}-livekit`;
  const wantUri = { sipUrl: plan.path.originationSipUri, weight: 10, priority: 10, enabled: true };
  step(`twilio: origination URI "${uriName}" -> ${wantUri.sipUrl}`);
  const existingUris = trunkSid === undefined ? [] : (await client.trunking.v1.trunks(trunkSid).originationUrls.list()).filter((u) => u.friendlyName === uriName);
  const haveUri = existingUris[0];
  if (haveUri === undefined) {
    let id: string | undefined;
    if (!dryRun && trunkSid !== undefined) id = (await client.trunking.v1.trunks(trunkSid).originationUrls.create({ friendlyName: uriName, ...wantUri })).sid;
    result.actions.push({ object: 'origination-uri', name: uriName, action: 'create', id, changes: [] });
  } else {
    const changes = changesOf({ sipUrl: haveUri.sipUrl, weight: haveUri.weight, priority: haveUri.priority, enabled: haveUri.enabled }, wantUri);
    if (changes.length > 0 && !dryRun && trunkSid !== undefined) {
      await client.trunking.v1.trunks(trunkSid).originationUrls(haveUri.sid).update({ friendlyName: uriName, ...wantUri });
    }
    result.actions.push({ object: 'origination-uri', name: uriName, action: changes.length > 0 ? 'update' : 'keep', id: haveUri.sid, changes });
  }

  step(`twilio: ${plan.phoneNumber} on trunk "${trunkName}"`);
  if (trunkSid !== undefined && number.trunkSid === trunkSid) {
    result.actions.push({ object: 'trunk-number', name: plan.phoneNumber, action: 'keep', id: number.sid, changes: [] });
  } else {
    if (!dryRun) {
      // A number belongs to at most one trunk: move it.
      if (number.trunkSid) await client.trunking.v1.trunks(number.trunkSid).phoneNumbers(number.sid).remove();
      if (trunkSid !== undefined) await client.trunking.v1.trunks(trunkSid).phoneNumbers.create({ phoneNumberSid: number.sid });
    }
    result.actions.push({
      object: 'trunk-number',
      name: plan.phoneNumber,
      action: 'create',
      id: number.sid,
      changes: [`trunkSid: ${show(number.trunkSid)} -> ${show(trunkSid ?? `(new trunk ${trunkName})`)}`],
    });
  }
  return result;
}

/** One line per action, for the CLI. */
export function formatTwilioActions(result: TwilioResult): string {
  return result.actions
    .map((a) => {
      const what = a.changes.length > 0 ? `${a.action} (${a.changes.join('; ')})` : a.action;
      return `${result.dryRun ? '[dry-run] ' : ''}twilio ${a.object} ${a.name}: ${what}${a.id === undefined ? '' : ` ${a.id}`}`;
    })
    .join('\n');
}
