// startStack's webhookUrls: livekit-server posts signed events for a real SIP call's room.
import { ParticipantKind } from '@livekit/rtc-node';
import { RoomServiceClient, SipClient, WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPracticeLinePlan, ensureSip } from '../../sip/ensure.js';
import { startStack, type Stack } from '../../sip/stack/stack.js';
import { createProbe, type Probe } from '../support/probe.js';
import { createSipPhone, type SipPhone } from '../../sip/phone/phone.js';

let stack: Stack;
let server: Server;
let phone: SipPhone | undefined;
let probe: Probe | undefined;
const events: WebhookEvent[] = [];
const rejected: string[] = [];

beforeAll(async () => {
  let receiver: WebhookReceiver | undefined;
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      // The raw body is what the signature covers.
      receiver
        ?.receive(body, request.headers.authorization)
        .then((event) => events.push(event))
        .catch((error: unknown) => rejected.push(String(error)));
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  stack = await startStack({ webhookUrls: [`http://127.0.0.1:${port}/livekit/webhook`] });
  receiver = new WebhookReceiver(stack.apiKey, stack.apiSecret);
}, 120_000);

afterAll(async () => {
  await probe?.close();
  await phone?.close();
  await stack?.stop();
  await new Promise((resolve) => server?.close(resolve));
});

async function waitForEvent(predicate: (e: WebhookEvent) => boolean, timeoutMs = 20_000): Promise<WebhookEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = events.find(predicate);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no matching webhook; got ${events.map((e) => e.event).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('webhooks from the stack', () => {
  it('posts signed participant_joined (SIP) and room_finished events', async () => {
    const auth = { username: 'hook', password: randomBytes(8).toString('hex') };
    await ensureSip(
      new SipClient(stack.httpUrl, stack.apiKey, stack.apiSecret),
      buildPracticeLinePlan({ agentName: 'a', twilio: { authUsername: auth.username, authPassword: auth.password } }),
    );
    const room = `hook-${randomBytes(4).toString('hex')}`;
    probe = await createProbe({ url: stack.livekitUrl, apiKey: stack.apiKey, apiSecret: stack.apiSecret, room });
    phone = await createSipPhone({ from: '+15550104' });
    const call = await phone.dial(stack.sipUri(room), { auth });
    await probe.waitForParticipant((p) => p.kind === ParticipantKind.SIP);

    const joined = await waitForEvent((e) => e.event === 'participant_joined' && e.participant?.attributes['sip.phoneNumber'] === '+15550104');
    expect(joined.room?.name).toBe(room);
    await new RoomServiceClient(stack.httpUrl, stack.apiKey, stack.apiSecret).deleteRoom(room);
    await call.waitForBye(15_000);
    const finished = await waitForEvent((e) => e.event === 'room_finished' && e.room?.name === room);
    expect(finished.room?.name).toBe(room);
    expect(rejected).toEqual([]);
  });
});
