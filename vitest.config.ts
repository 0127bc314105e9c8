import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files that play real-time audio (a SIP phone, a browser's fake microphone, an in-process agent
 * session): most of their time is a caller speaking and a persona answering, not CPU, and a CPU
 * burst beside them (a process booting, a build) can stall the audio path. They run first, two at
 * a time and beside nothing else. A new test that places a call belongs here.
 */
const CALLS = [
  'test/agent/**/*.test.ts',
  'test/web/browser_*.test.ts',
  'test/scale/**/*.test.ts',
  'test/telephony/**/*.test.ts',
  'test/resilience/call_through_outage.test.ts',
  'test/post_call/call_email_e2e.test.ts',
  'test/call/terminal_call.test.ts',
  'test/call_routing/twilio_sip_e2e.test.ts',
  'test/call_routing/agent_availability.test.ts',
  'sip/phone/**/*.test.ts',
  'agent/early_segment_stt.test.ts',
  'agent/persona_call.test.ts',
  'agent/pin_gate.test.ts',
];

/** Every test file; the ones in CALLS run in their own group. */
const ALL = ['src/**/*.test.ts', 'agent/**/*.test.ts', 'sip/**/*.test.ts', 'test/**/*.test.ts'];

export default defineConfig({
  test: {
    // One real PostgreSQL for the run; every test file gets its own database from the real migrations.
    globalSetup: ['test/support/global_setup.ts'],
    // Real servers and real audio on a 2-core machine: be patient, and measure speed in bench/ instead.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      // Two calls at a time even on 2 cores (vitest's default there is one): they wait on real time,
      // so two in flight halve the wall time while each file still owns its world. Three flaked:
      // a stall on the audio path cuts a rep's sentence into fragments the STT cannot match.
      { extends: true, test: { name: 'calls', include: CALLS, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      // The rest (databases, HTTP, pages, CLIs) after the calls, three at a time: they wait on
      // servers and child processes often enough that a third file fits (88 files: 160 -> 128 s).
      { extends: true, test: { name: 'rest', include: ALL, exclude: [...configDefaults.exclude, ...CALLS], maxWorkers: 3, sequence: { groupOrder: 1 } } },
    ],
  },
});
