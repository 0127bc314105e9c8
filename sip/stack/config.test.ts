import { describe, expect, it } from 'vitest';
import { buildLivekitServerConfig, buildLivekitSipConfig, pinsStamp, readPins, toYaml } from './config.js';

describe('stack config', () => {
  it('reads the pinned versions from versions.env', () => {
    const pins = readPins();
    expect(pins.livekitServerVersion).toBe('v1.13.5');
    expect(pins.livekitSipVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(pinsStamp(pins)).toBe(`livekit-server=${pins.livekitServerVersion} livekit-sip=${pins.livekitSipVersion}`);
  });

  it('writes livekit-sip config with the known traps handled', () => {
    const config = buildLivekitSipConfig({
      sipPort: 5070,
      rtpPortRange: { start: 20000, end: 20100 },
      livekitWsUrl: 'ws://127.0.0.1:7880',
      redisAddress: '127.0.0.1:6379',
      apiKey: 'k',
      apiSecret: 's',
      logLevel: 'info',
    });
    expect(config).toMatchObject({
      rtp_port: '20000-20100', // a string: the PortRange YAML decoder wants "start-end"
      listen_ip: '127.0.0.1',
      nat_1_to_1_ip: '127.0.0.1',
      sip_port: 5070,
      redis: { address: '127.0.0.1:6379' },
      ws_url: 'ws://127.0.0.1:7880',
    });
    expect(config).not.toHaveProperty('health_port');
  });

  it('keeps livekit-server on loopback and adds webhooks only when asked', () => {
    const input = {
      httpPort: 7880,
      rtcUdpPort: 7882,
      redisAddress: '127.0.0.1:6379',
      apiKey: 'k',
      apiSecret: 's',
      webhookUrls: [] as string[],
      logLevel: 'info' as const,
    };
    const plain = buildLivekitServerConfig(input);
    expect(plain).toMatchObject({ bind_addresses: ['127.0.0.1'], rtc: { node_ip: '127.0.0.1', tcp_port: 0, interfaces: { includes: ['lo'] } }, keys: { k: 's' } });
    expect(plain).not.toHaveProperty('webhook');
    expect(buildLivekitServerConfig({ ...input, webhookUrls: ['http://127.0.0.1:3000/livekit/webhook'] })).toMatchObject({
      webhook: { api_key: 'k', urls: ['http://127.0.0.1:3000/livekit/webhook'] },
    });
    expect(JSON.parse(toYaml(plain))).toEqual(plain);
  });
});
