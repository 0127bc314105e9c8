import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const loopback = '127.0.0.1';

function probeTcp(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ host: loopback, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

function probeUdp(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(null);
    });
    socket.bind({ address: loopback, port, exclusive: true }, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick). */
export async function freeTcpPort(): Promise<number> {
  const port = await probeTcp(0);
  if (port === null) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

/** A UDP port on 127.0.0.1 that was free a moment ago (the kernel's pick). */
export async function freeUdpPort(): Promise<number> {
  const port = await probeUdp(0);
  if (port === null) throw new Error('no free UDP port on 127.0.0.1');
  return port;
}

/** A port free for both UDP and TCP, as SIP listens on both with the same number. */
export async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await freeUdpPort();
    if ((await probeTcp(port)) === port) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

export interface PortRange {
  start: number;
  end: number;
}

/**
 * A random block of ports for livekit-sip's RTP, below Linux's default ephemeral range
 * (32768+) so kernel-picked ports rarely land in it. Two stacks picking overlapping blocks
 * still work: livekit-sip skips ports that are taken.
 */
export async function freeRtpRange(size = 100): Promise<PortRange> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const start = 20000 + 2 * Math.floor(Math.random() * ((32000 - 20000 - size) / 2));
    const probes = [start, start + 2, start + Math.floor(size / 2)];
    const free = await Promise.all(probes.map((p) => probeUdp(p)));
    if (free.every((p, i) => p === probes[i])) return { start, end: start + size - 1 };
  }
  throw new Error('no free UDP block for RTP on 127.0.0.1');
}
