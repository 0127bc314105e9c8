import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PortRange } from './ports.js';

/** The repository root (this file lives in sip/stack/). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface StackPins {
  livekitServerVersion: string;
  livekitSipVersion: string;
}

/** Reads the pinned versions from sip/stack/versions.env, the single place they are written. */
export function readPins(path = fileURLToPath(new URL('./versions.env', import.meta.url))): StackPins {
  const values = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], match[2]);
  }
  const server = values.get('LIVEKIT_SERVER_VERSION');
  const sip = values.get('LIVEKIT_SIP_VERSION');
  if (server === undefined || sip === undefined) throw new Error(`versions missing in ${path}`);
  return { livekitServerVersion: server, livekitSipVersion: sip };
}

/** The stamp install.sh writes next to the binaries once both are built. */
export function pinsStamp(pins: StackPins): string {
  return `livekit-server=${pins.livekitServerVersion} livekit-sip=${pins.livekitSipVersion}`;
}

export interface LivekitServerConfigInput {
  httpPort: number;
  rtcUdpPort: number;
  redisAddress: string;
  apiKey: string;
  apiSecret: string;
  webhookUrls: readonly string[];
  logLevel: 'debug' | 'info' | 'warn';
}

/**
 * livekit-server config. Everything on loopback: signalling bound to 127.0.0.1, ICE only on
 * `lo` and announced as 127.0.0.1 (`node_ip` set explicitly also stops STUN lookups, which
 * cannot work offline). TCP ICE is off so no listener opens on all interfaces.
 * Field names from livekit-server pkg/config/config.go and mediatransportutil rtcconfig.
 */
export function buildLivekitServerConfig(input: LivekitServerConfigInput): Record<string, unknown> {
  const config: Record<string, unknown> = {
    port: input.httpPort,
    bind_addresses: ['127.0.0.1'],
    rtc: {
      udp_port: input.rtcUdpPort,
      tcp_port: 0,
      node_ip: '127.0.0.1',
      use_external_ip: false,
      enable_loopback_candidate: true,
      interfaces: { includes: ['lo'] },
    },
    redis: { address: input.redisAddress },
    keys: { [input.apiKey]: input.apiSecret },
    logging: { level: input.logLevel },
  };
  if (input.webhookUrls.length > 0) {
    config['webhook'] = { api_key: input.apiKey, urls: [...input.webhookUrls] };
  }
  return config;
}

export interface LivekitSipConfigInput {
  sipPort: number;
  rtpPortRange: PortRange;
  livekitWsUrl: string;
  redisAddress: string;
  apiKey: string;
  apiSecret: string;
  logLevel: 'debug' | 'info' | 'warn';
}

/**
 * livekit-sip config (fields from livekit/sip pkg/config/config.go). Traps: `rtp_port` must be a
 * "start-end" string, and livekit-sip skips loopback when picking its own address, so
 * `listen_ip` and `nat_1_to_1_ip` pin it to 127.0.0.1. `max_cpu_utilization: 1` stops a busy
 * 2-core CI box from being reported "under load" (which refuses outbound calls).
 * No health_port: its HTTP server binds every interface; readiness is checked with SIP OPTIONS.
 */
export function buildLivekitSipConfig(input: LivekitSipConfigInput): Record<string, unknown> {
  return {
    api_key: input.apiKey,
    api_secret: input.apiSecret,
    ws_url: input.livekitWsUrl,
    redis: { address: input.redisAddress },
    sip_port: input.sipPort,
    rtp_port: `${input.rtpPortRange.start}-${input.rtpPortRange.end}`,
    listen_ip: '127.0.0.1',
    nat_1_to_1_ip: '127.0.0.1',
    max_cpu_utilization: 1,
    logging: { level: input.logLevel },
  };
}

/** Both servers parse YAML with yaml.v3, and JSON is YAML, so no YAML writer is needed. */
export function toYaml(config: Record<string, unknown>): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
