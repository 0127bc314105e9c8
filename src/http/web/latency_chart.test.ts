import { describe, expect, it } from 'vitest';
import { latencyChart, latencySegments } from './latency_chart.js';

const base = { seq: 3, endOfUtteranceDelayMs: 500, sttMs: 170, llmTtftMs: 160, ttsTtfbMs: 160, endToEndMs: 1050 };

describe('latency chart', () => {
  it('stacks the stages of a reply generated after the turn ended, with the rest as transport/queuing', () => {
    expect(latencySegments({ ...base, speculativeLeadMs: null }).map((s) => [s.label, s.ms])).toEqual([
      ['Endpointing', 500],
      ['STT', 170],
      ['LLM first token', 160],
      ['TTS first byte', 160],
      ['Other', 60],
    ]);
  });

  it('does not stack stages that overlapped the silence: a speculative reply is endpointing plus what came after the commit', () => {
    const segments = latencySegments({ ...base, endToEndMs: 760, speculativeLeadMs: 110 });
    expect(segments.map((s) => [s.label, s.ms])).toEqual([
      ['Endpointing (reply prepared meanwhile)', 500],
      ['After the turn ended', 260],
    ]);
    expect(segments.reduce((sum, s) => sum + s.ms, 0), 'the bar is as tall as the measured end-to-end time').toBe(760);
    expect(String(latencyChart([{ ...base, endToEndMs: 760, speculativeLeadMs: 110 }]))).toContain('reply prepared during the silence');
  });
});
