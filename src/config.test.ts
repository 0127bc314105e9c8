import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, processEnvironment, publicUrlProblem } from './config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be rejected');
}

describe('loadConfig', () => {
  it('runs on an empty environment with local defaults', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.PUBLIC_BASE_URL).toBe('http://localhost:3000');
    expect(config.GROQ_BASE_URL).toBe('https://api.groq.com');
    expect(config.integrations.livekit).toEqual({
      configured: false,
      missing: ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'],
    });
  });

  it('trusts no proxy unless TRUST_PROXY names hops or addresses, and refuses "trust everyone"', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::1' }).TRUST_PROXY).toBe('loopback, 10.0.0.0/8, fd00::1');
    for (const bad of ['true', '*', '10.0.0.0/8/1', 'proxy.example.com']) {
      expect(problemsOf({ TRUST_PROXY: bad })[0]).toMatch(/^TRUST_PROXY: expected a hop count/);
    }
  });

  it('reads LINE_LANGUAGES as number -> canonical language tag, and names a bad pair', () => {
    expect(loadConfig({}).LINE_LANGUAGES).toBeUndefined();
    const lines = loadConfig({ LINE_LANGUAGES: '+34 911 234 567=es-es, +4930123456=de' }).LINE_LANGUAGES!;
    expect([...lines]).toEqual([['+34911234567', 'es-ES'], ['+4930123456', 'de']]);
    expect(problemsOf({ LINE_LANGUAGES: '+34911234567=tlh' })[0]).toMatch(/^LINE_LANGUAGES: expected number=language pairs .*"\+34911234567=tlh"/);
    expect(problemsOf({ LINE_LANGUAGES: 'es' })[0]).toMatch(/^LINE_LANGUAGES: /);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
  });

  it('reports every bad key at once, naming the key and what was expected', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://nope',
      LOG_LEVEL: 'loud',
      PIN_SECRET: 'short',
      SMTP_SECURE: 'maybe',
    });
    expect(problems).toHaveLength(5);
    expect(problems.find((p) => p.startsWith('PORT:'))).toMatch(/port number/);
    expect(problems.find((p) => p.startsWith('DATABASE_URL:'))).toMatch(/postgres:\/\//);
    expect(problems.find((p) => p.startsWith('LOG_LEVEL:'))).toMatch(/one of .*info/);
    expect(problems.find((p) => p.startsWith('PIN_SECRET:'))).toMatch(/at least 32/);
    expect(problems.find((p) => p.startsWith('SMTP_SECURE:'))).toMatch(/true or false/);
  });

  it('treats empty values as unset, as .env files often leave them', () => {
    const config = loadConfig({ DATABASE_URL: '', GROQ_API_KEY: '  ' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.integrations.groq.configured).toBe(false);
  });

  it('refuses a half-configured integration instead of failing later mid-call', () => {
    expect(problemsOf({ LIVEKIT_URL: 'ws://127.0.0.1:7880' })).toEqual([
      'LIVEKIT_API_KEY, LIVEKIT_API_SECRET: required once any livekit key is set',
    ]);
  });

  it('marks an integration configured when all its keys are present', () => {
    const config = loadConfig({
      LIVEKIT_URL: 'ws://127.0.0.1:7880',
      LIVEKIT_API_KEY: 'devkey',
      LIVEKIT_API_SECRET: 'secret',
      PUBLIC_BASE_URL: 'https://practice.example.com/',
    });
    expect(config.integrations.livekit).toEqual({ configured: true, missing: [] });
    expect(config.PUBLIC_BASE_URL).toBe('https://practice.example.com');
  });

  it('keeps the early STT request off by default, and below the segment silence when on', () => {
    expect(loadConfig({}).AGENT_STT_EARLY_REQUEST_MS).toBe(120);
    expect(loadConfig({ AGENT_STT_EARLY_REQUEST_MS: '0' }).AGENT_STT_EARLY_REQUEST_MS).toBe(0);
    expect(loadConfig({ AGENT_STT_EARLY_REQUEST_MS: '120' }).AGENT_STT_EARLY_REQUEST_MS).toBe(120);
    expect(problemsOf({ AGENT_STT_EARLY_REQUEST_MS: '200' })).toEqual(['AGENT_STT_EARLY_REQUEST_MS: expected 0 (off) or less than AGENT_STT_SEGMENT_SILENCE_MS (200)']);
    expect(problemsOf({ AGENT_STT_EARLY_REQUEST_MS: '-1' })[0]).toMatch(/^AGENT_STT_EARLY_REQUEST_MS: expected 0 \(off\) or more/);
    expect(loadConfig({ AGENT_STT_EARLY_REQUEST_MS: '200', AGENT_STT_SEGMENT_SILENCE_MS: '300' }).AGENT_STT_EARLY_REQUEST_MS).toBe(200);
  });

  it('rejects a malformed DATABASE_URL in plain words', () => {
    const error = (() => {
      try {
        loadConfig({ DATABASE_URL: 'postgres://' });
      } catch (caught) {
        return caught as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/^Configuration is invalid:\n {2}- DATABASE_URL: expected/);
  });
});

describe('processEnvironment', () => {
  it('completes the environment from an .env file without overriding what is already set', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pl-env-')), '.env');
    writeFileSync(file, 'PL_TEST_FROM_FILE=file\nPL_TEST_BOTH=file\n');
    process.env.ENV_FILE = file;
    process.env.PL_TEST_BOTH = 'process';
    try {
      const env = processEnvironment();
      expect(env.PL_TEST_FROM_FILE).toBe('file');
      expect(env.PL_TEST_BOTH).toBe('process');
    } finally {
      delete process.env.ENV_FILE;
      delete process.env.PL_TEST_BOTH;
      delete process.env.PL_TEST_FROM_FILE;
    }
  });

  it('reads no file when ENV_FILE is empty', () => {
    process.env.ENV_FILE = '';
    try {
      expect(processEnvironment().PL_TEST_FROM_FILE).toBeUndefined();
    } finally {
      delete process.env.ENV_FILE;
    }
  });
});

describe('publicUrlProblem', () => {
  it('names loopback and plain http, and accepts a public https URL', () => {
    expect(publicUrlProblem(loadConfig({}).PUBLIC_BASE_URL)).toMatch(/^WARNING: PUBLIC_BASE_URL is http:\/\/localhost:3000\. .*loopback/);
    expect(publicUrlProblem('https://127.0.0.1:8443')).toMatch(/loopback/);
    expect(publicUrlProblem('http://practice.example.com')).toMatch(/plain http/);
    expect(publicUrlProblem('https://practice.example.com')).toBeUndefined();
  });
});
