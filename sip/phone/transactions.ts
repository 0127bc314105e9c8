/**
 * SIP over one UDP socket: sends requests as client transactions (RFC 3261 §17.1, timers A/E
 * retransmit until a final response), matches responses to them, answers requests, and hands
 * every incoming request and every unmatched response to the phone. Keeps a trace of the wire.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import {
  cseqOf,
  header,
  parseSipMessage,
  serializeSipMessage,
  tagOf,
  type SipHeader,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './message.js';

const t1Ms = 500; // RFC 3261 timer T1
const t2Ms = 4000; // RFC 3261 timer T2

export interface Peer {
  host: string;
  port: number;
}

export interface ResponseExtras {
  /** Added to a To header without a tag (the dialog's local tag). */
  toTag?: string;
  headers?: SipHeader[];
  body?: string;
}

export interface SipTransport {
  readonly localAddress: string;
  readonly port: number;
  /** Sends once, no retransmission (ACK, responses). */
  send(message: SipMessage, to: Peer): void;
  /** Sends a request and retransmits it until a final response, which it resolves with. */
  request(message: SipRequest, to: Peer, onProvisional?: (response: SipResponse) => void): Promise<SipResponse>;
  respond(request: SipRequest, status: number, reason: string, to: RemoteInfo, extras?: ResponseExtras): void;
  /** Incoming requests; and final responses no transaction was waiting for (retransmitted 2xx). */
  onRequest(handler: (request: SipRequest, from: RemoteInfo) => void): void;
  onStrayResponse(handler: (response: SipResponse) => void): void;
  trace(): string;
  /** Forgets pending transactions and closes the socket. */
  close(): Promise<void>;
}

interface Pending {
  resolve: (response: SipResponse) => void;
  onProvisional: (response: SipResponse) => void;
  /** The transport closed: stop retransmitting and fail the request. */
  abandon: () => void;
}

const transactionKey = (message: SipMessage): string => {
  const { seq, method } = cseqOf(message);
  return `${header(message, 'Call-ID') ?? ''}|${seq}|${method}`;
};

export async function openSipTransport(localAddress: string, onTrace?: (line: string) => void): Promise<SipTransport> {
  const traceLines: string[] = [];
  const origin = performance.now();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: localAddress, port: 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const pending = new Map<string, Pending>();
  let requestHandler: (request: SipRequest, from: RemoteInfo) => void = () => undefined;
  let strayHandler: (response: SipResponse) => void = () => undefined;

  const trace = (direction: '>' | '<', message: string, peer: string): void => {
    const line = `[${(performance.now() - origin).toFixed(0)}ms] ${direction} ${peer}\n${message}`;
    traceLines.push(line);
    onTrace?.(line);
  };

  const send = (message: SipMessage, to: Peer): void => {
    const text = serializeSipMessage(message);
    trace('>', text, `${to.host}:${to.port}`);
    socket.send(text, to.port, to.host);
  };

  socket.on('message', (data, peer) => {
    const text = data.toString('utf8');
    trace('<', text, `${peer.address}:${peer.port}`);
    let message: SipMessage;
    try {
      message = parseSipMessage(text);
    } catch {
      return; // not SIP (e.g. a stray keep-alive)
    }
    if (message.kind === 'request') {
      requestHandler(message, peer);
      return;
    }
    const key = transactionKey(message);
    const transaction = pending.get(key);
    if (message.status < 200) {
      transaction?.onProvisional(message);
      return;
    }
    if (transaction === undefined) {
      strayHandler(message);
      return;
    }
    pending.delete(key);
    transaction.resolve(message);
  });

  const request = (message: SipRequest, to: Peer, onProvisional?: (r: SipResponse) => void): Promise<SipResponse> => {
    const key = transactionKey(message);
    const method = message.method;
    return new Promise<SipResponse>((resolve, reject) => {
      let interval = t1Ms;
      let timer: NodeJS.Timeout | undefined;
      let provisional = false;
      const started = Date.now();
      const retransmit = (): void => {
        if (Date.now() - started > 64 * t1Ms) {
          pending.delete(key);
          reject(new Error(`no final response to ${method} after ${64 * t1Ms} ms`));
          return;
        }
        // After a provisional response an INVITE is neither retransmitted nor timed out: it
        // rings until answered or cancelled (RFC 3261 §17.1.1.2, Proceeding state).
        if (method === 'INVITE' && provisional) return;
        send(message, to);
        interval = method === 'INVITE' ? interval * 2 : Math.min(interval * 2, t2Ms);
        timer = setTimeout(retransmit, interval);
      };
      pending.set(key, {
        resolve: (response) => {
          clearTimeout(timer);
          resolve(response);
        },
        onProvisional: (response) => {
          provisional = true;
          onProvisional?.(response);
        },
        abandon: () => {
          clearTimeout(timer);
          reject(new Error(`the phone closed before a final response to ${method}`));
        },
      });
      retransmit();
    });
  };

  const respond = (incoming: SipRequest, status: number, reason: string, to: RemoteInfo, extras: ResponseExtras = {}): void => {
    const copied = incoming.headers.filter((h) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(h.name.toLowerCase()));
    const response: SipResponse = {
      kind: 'response',
      status,
      reason,
      headers: copied.map((h) =>
        h.name.toLowerCase() === 'to' && tagOf(h.value) === undefined && extras.toTag !== undefined
          ? { name: 'To', value: `${h.value};tag=${extras.toTag}` }
          : h,
      ),
      body: extras.body ?? '',
    };
    response.headers.push(...(extras.headers ?? []));
    send(response, { host: to.address, port: to.port });
  };

  return {
    localAddress,
    port: socket.address().port,
    send,
    request,
    respond,
    onRequest: (handler) => {
      requestHandler = handler;
    },
    onStrayResponse: (handler) => {
      strayHandler = handler;
    },
    trace: () => traceLines.join('\n'),
    async close() {
      // A retransmission timer outliving the socket would throw ERR_SOCKET_DGRAM_NOT_RUNNING.
      for (const transaction of pending.values()) transaction.abandon();
      pending.clear();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
