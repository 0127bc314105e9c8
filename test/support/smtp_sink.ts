// A real SMTP server on loopback (npm smtp-server) that keeps every message it accepts, parsed with
// mailparser, and can be told to refuse: temporarily (4xx, the sender should retry) or for good (5xx).
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  parsed: ParsedMail;
  raw: Buffer;
}

export interface SmtpSink {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** Refuse the next `count` transactions at MAIL FROM with `code` (default 421: try again later). */
  refuseNext(count: number, code?: number): void;
  /** Refuse these recipients for good (550) at RCPT TO. */
  rejectRecipient(address: string): void;
  /** Hold each DATA reply this long before answering. */
  setDataDelay(ms: number): void;
  /** Transactions refused so far (MAIL FROM and RCPT TO). */
  refusals: number;
  /** Transactions started (MAIL FROM accepted), including ones whose DATA is still being answered. */
  started: number;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  let refuse = 0;
  let refuseCode = 421;
  let dataDelayMs = 0;
  const rejected = new Set<string>();
  const messages: ReceivedMail[] = [];
  const sink = {} as SmtpSink;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onMailFrom(_address, _session, callback) {
      if (refuse > 0) {
        refuse -= 1;
        sink.refusals += 1;
        const error = Object.assign(new Error('Service temporarily unavailable, try again later'), { responseCode: refuseCode });
        callback(error);
        return;
      }
      sink.started += 1;
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (rejected.has(address.address.toLowerCase())) {
        sink.refusals += 1;
        callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then(async (parsed) => {
            if (dataDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, dataDelayMs));
            messages.push({
              envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
              parsed,
              raw,
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;
  Object.assign(sink, {
    host: '127.0.0.1',
    port,
    messages,
    refusals: 0,
    started: 0,
    refuseNext(count: number, code = 421) {
      refuse = count;
      refuseCode = code;
    },
    rejectRecipient(address: string) {
      rejected.add(address.toLowerCase());
    },
    setDataDelay(ms: number) {
      dataDelayMs = ms;
    },
    async waitFor(count: number, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} emails, got ${messages.length} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return messages.slice(0, count);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return sink;
}
