import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDispatchClient } from './dispatch_client.js';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A real HTTP server answering with the given (status, body) in turn; records what it received. */
async function serve(answers: { status: number; body: unknown }[]) {
  const received: { auth: string | undefined; body: unknown }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      received.push({ auth: req.headers.authorization, body: JSON.parse(raw) });
      const answer = answers[Math.min(received.length - 1, answers.length - 1)]!;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const request = { roomName: 'practice-direct-1', digits: '4821', callerNumber: '+15550100001', calledNumber: '+15550004000', sipCallId: 'SCL_1' };

describe('createDispatchClient', () => {
  it('posts the digits with the shared secret and returns a refusal as data', async () => {
    const { url, received } = await serve([{ status: 200, body: { outcome: 'refused', reason: 'wrong_pin', say: 'That PIN was not recognised.', retry: true } }]);
    const resolve = createDispatchClient({ baseUrl: `${url}/`, sharedSecret: 'a-shared-secret-1234' });
    // A dispatch service from before decision 017 names no language: its line is English.
    await expect(resolve(request)).resolves.toEqual({ outcome: 'refused', reason: 'wrong_pin', say: 'That PIN was not recognised.', retry: true, language: 'en' });
    expect(received).toEqual([{ auth: 'Bearer a-shared-secret-1234', body: request }]);
  });

  it('retries a 5xx once', async () => {
    const { url, received } = await serve([
      { status: 503, body: { error: 'busy' } },
      { status: 200, body: { outcome: 'refused', reason: 'no_digits', say: 'Please enter your PIN.', retry: true } },
    ]);
    const resolve = createDispatchClient({ baseUrl: url, sharedSecret: 'a-shared-secret-1234' });
    await expect(resolve(request)).resolves.toMatchObject({ outcome: 'refused', reason: 'no_digits' });
    expect(received).toHaveLength(2);
  });

  it('refuses an answer outside the contract instead of guessing', async () => {
    const { url } = await serve([{ status: 401, body: { error: 'unauthorized' } }]);
    const resolve = createDispatchClient({ baseUrl: url, sharedSecret: 'wrong-secret-123456' });
    await expect(resolve(request)).rejects.toThrow(/unexpected body/);
  });
});
