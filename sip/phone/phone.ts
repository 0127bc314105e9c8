/**
 * A SIP phone: a user agent over UDP with G.711 RTP, for placing real calls into livekit-sip
 * (or anything else that speaks SIP). `npm run call` and the tests both use it.
 *
 *   const phone = await createSipPhone({ from: '+15550100' });
 *   const call = await phone.dial(stack.sipUri(roomName), {
 *     headers: { 'X-Practice-Call': callId },          // or put them in the URI: sip:r@h:p?X-A=1
 *     auth: { username: 'u', password: 'p' },          // answers a 401/407 digest challenge
 *   });
 *   await call.playWav('fixtures/hello.wav');          // resampled to 8 kHz, 20 ms frames
 *   await call.sendDtmf('1234#');                      // RFC 4733 events
 *   call.recording();                                  // Int16Array, 8 kHz, sample i = i/8 ms after call.t0
 *   call.voicedSegments();                             // [{ startMs, endMs }] on the same clock
 *   await call.waitForVoice({ afterMs: call.now() });  // first voiced audio heard from now on
 *   await call.waitForQuiet();                         // the far end finished speaking (700 ms of silence)
 *   call.sent();                                       // what the phone sent, same clock
 *   await call.waitForBye();                           // the far end hung up
 *   await call.hangup();                               // we hang up (BYE)
 *   await phone.close();
 *
 * Parts: transactions.ts (UDP, retransmission, matching), dialog.ts (INVITE/ACK/CANCEL/BYE),
 * media.ts (RTP out and in, RFC 4733), recorder.ts (what was heard, on the call's clock).
 * Every timestamp a call reports is milliseconds since `call.t0`, taken just before the first
 * INVITE, so latencies can be read straight off.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Dialog, parseSipUri, type DialOptions, type PhoneCall } from './dialog.js';
import { cseqOf, header } from './message.js';
import type { G711Codec } from './sdp.js';
import { openSipTransport } from './transactions.js';

export { parseSipUri, type CallEnd, type DialOptions, type PhoneCall } from './dialog.js';
export type { DtmfOptions, ReceivedDtmf, ReceivedPacket, SentItem } from './media.js';
export { phoneSampleRate } from './recorder.js';

export interface SipPhoneOptions {
  /** User part of From and Contact (the caller's number); default '+15550100'. */
  from?: string;
  displayName?: string;
  /** Codecs offered, in order; default PCMU, PCMA. */
  codecs?: readonly G711Codec[];
  /** Called with every SIP message sent or received (for debugging). */
  onTrace?: (line: string) => void;
}

export interface SipPhone {
  readonly sipPort: number;
  dial(uri: string, options?: DialOptions): Promise<PhoneCall>;
  /** Full SIP trace of this phone, for failure messages. */
  trace(): string;
  /** Hangs up active calls and closes the sockets. */
  close(): Promise<void>;
}

export async function createSipPhone(options: SipPhoneOptions = {}): Promise<SipPhone> {
  const local = { from: options.from ?? '+15550100', displayName: options.displayName, codecs: options.codecs ?? ['PCMU', 'PCMA'] };
  const transport = await openSipTransport('127.0.0.1', options.onTrace);
  const dialogs = new Map<string, Dialog>(); // Call-ID -> call

  transport.onStrayResponse((response) => {
    if (cseqOf(response).method === 'INVITE' && response.status < 300) dialogs.get(header(response, 'Call-ID') ?? '')?.resendAck();
  });

  transport.onRequest((request, peer) => {
    const dialog = dialogs.get(header(request, 'Call-ID') ?? '');
    const toTag = dialog?.localTag;
    const unknown = (): void => transport.respond(request, 481, 'Call/Transaction Does Not Exist', peer, toTag === undefined ? {} : { toTag });
    switch (request.method) {
      case 'ACK':
        return;
      case 'BYE':
        if (dialog === undefined) return unknown();
        transport.respond(request, 200, 'OK', peer, { toTag: dialog.localTag });
        dialog.remoteBye();
        return;
      case 'INVITE':
        // A re-INVITE (session refresh): keep the media as it is and answer with our offer again.
        if (dialog === undefined) return unknown();
        transport.respond(request, 200, 'OK', peer, {
          toTag: dialog.localTag,
          headers: [dialog.contact(), { name: 'Content-Type', value: 'application/sdp' }],
          body: dialog.localSdp,
        });
        return;
      default:
        // OPTIONS keep-alives, INFO, NOTIFY, CANCEL: acknowledge so the far end stays happy.
        transport.respond(request, 200, 'OK', peer, toTag === undefined ? {} : { toTag });
    }
  });

  return {
    sipPort: transport.port,
    async dial(uri, dialOptions = {}) {
      const target = parseSipUri(uri);
      if (isIP(target.host) === 0) target.host = (await lookup(target.host, { family: 4 })).address;
      const call = new Dialog(transport, local, target, dialOptions, (closed) => dialogs.delete(closed.callId));
      dialogs.set(call.callId, call);
      await call.start();
      return call;
    },
    trace: () => transport.trace(),
    async close() {
      await Promise.all([...dialogs.values()].map((call) => call.hangup()));
      await transport.close();
    },
  };
}
