// A TCP proxy in front of PostgreSQL that a test switches between three states, to play the
// database's failures without stopping the shared test server:
//   up        - forwards both ways;
//   refusing  - like a stopped server: open connections are closed, new ones are reset at once;
//   silent    - like a network partition or a hung server: connections are accepted (new and
//               open alike) but nothing is forwarded, so only a timeout ends a wait.
import { connect, createServer, type Socket } from 'node:net';

export type ProxyState = 'up' | 'refusing' | 'silent';

export interface FaultProxy {
  port: number;
  /** The same URL with the proxy's port. */
  url: string;
  set(state: ProxyState): void;
  close(): Promise<void>;
}

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<{ client: Socket; upstream: Socket | null }>();
  let state: ProxyState = 'up';

  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (state === 'refusing') {
      client.resetAndDestroy();
      return;
    }
    const pair: { client: Socket; upstream: Socket | null } = { client, upstream: null };
    pairs.add(pair);
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (state === 'silent') {
      client.pause();
      return;
    }
    link(pair);
  });

  function link(pair: { client: Socket; upstream: Socket | null }): void {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    pair.upstream = upstream;
    upstream.on('error', () => pair.client.destroy());
    upstream.on('close', () => pair.client.destroy());
    pair.client.pipe(upstream).pipe(pair.client);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy did not bind');
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(address.port);

  return {
    port: address.port,
    url: url.toString(),
    set(next) {
      state = next;
      for (const pair of [...pairs]) {
        if (next === 'refusing') {
          pair.client.destroy();
        } else if (next === 'silent') {
          // Stop forwarding in both directions without closing anything.
          pair.client.unpipe();
          pair.upstream?.unpipe();
          pair.client.pause();
          pair.upstream?.pause();
        }
      }
      // Connections accepted while silent never reach the server; they stay stuck, as a client
      // behind a partition would. Everything opened from now on is forwarded again.
    },
    async close() {
      for (const pair of pairs) pair.client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
