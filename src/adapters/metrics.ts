// Prometheus metrics for GET /metrics (prom-client). Call figures are read from the database at
// scrape time rather than counted in memory: calls, turns and provider errors are written by two
// processes (dispatch service and agent worker), and the database is the one place both agree on.
// Every figure only grows (or is a current state), so scrapes of any replica agree.
import client, { type Metric, Registry } from 'prom-client';
import type pg from 'pg';
import { CALL_STATUSES } from '../domain/call_state.js';

export interface MetricsDeps {
  pool: pg.Pool;
  /** Also export Node's process metrics (CPU, memory, event-loop lag); default true. */
  processMetrics?: boolean;
}

export interface MetricsRegistry {
  contentType: string;
  /** The exposition text; throws when the database cannot be read. */
  metrics(): Promise<string>;
  registry: Registry;
}

/** End-to-end turn latency buckets in seconds: a phone conversation feels slow past ~1.5 s. */
export const turnLatencyBuckets = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10];

const providers = ['livekit', 'twilio', 'groq', 'elevenlabs', 'smtp'] as const;
const emailStatuses = ['pending', 'sent', 'failed'] as const;
const guessScopes = ['caller', 'line', 'global'] as const;

export function createMetricsRegistry(deps: MetricsDeps): MetricsRegistry {
  const registry = new Registry();
  if (deps.processMetrics ?? true) client.collectDefaultMetrics({ register: registry, prefix: 'practice_line_' });
  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => (await deps.pool.query<T>(text, values)).rows;

  /** A gauge of row counts by one label: `sql` answers (label, n); every known value is set, 0 when absent. */
  const countsBy = (name: string, help: string, label: string, values: readonly string[], sql: string) =>
    new client.Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      async collect() {
        const rows = await query<{ label: string; n: string }>(sql);
        for (const value of values) this.set({ [label]: value }, Number(rows.find((r) => r.label === value)?.n ?? 0));
      },
    });

  countsBy('practice_line_calls', 'Calls by current status (all time).', 'status', CALL_STATUSES, 'select status::text as label, count(*) as n from calls group by status');
  countsBy(
    'practice_line_provider_errors',
    'Provider errors recorded on calls, by provider (all time; use increase() over a window).',
    'provider',
    providers,
    `select e->>'provider' as label, count(*) as n from calls, jsonb_array_elements(provider_errors) as e group by 1`,
  );
  countsBy(
    'practice_line_pin_guard_trips',
    'Times a PIN-guessing limit tripped, by scope: caller, line (called number) or global (all time; alert on increase()).',
    'scope',
    guessScopes,
    `select entity_id as label, count(*) as n from audit_log where action = 'pin_guard.tripped' group by entity_id`,
  );
  countsBy('practice_line_email_deliveries', 'Post-call emails by delivery status (all time).', 'status', emailStatuses, 'select status::text as label, count(*) as n from email_deliveries group by status');

  new client.Gauge({
    name: 'practice_line_email_queue_depth',
    help: 'Post-call jobs (scorecard + email) waiting, retrying or running in the pg-boss queue.',
    registers: [registry],
    async collect() {
      // pg-boss creates its schema at start-up; before that the queue is simply empty.
      const [exists] = await query<{ ok: boolean }>(`select to_regclass('pgboss.job') is not null as ok`);
      if (!exists?.ok) return this.set(0);
      const [row] = await query<{ n: string }>(`select count(*) as n from pgboss.job where name = 'post-call' and state in ('created', 'retry', 'active')`);
      this.set(Number(row?.n ?? 0));
    },
  });

  // A histogram whose buckets are counted in SQL: prom-client's Histogram only observes in
  // memory, and turns are measured in the agent process. Rows are only ever added, so the
  // cumulative bucket counts behave like Prometheus counters.
  const latencyName = 'practice_line_turn_latency_seconds';
  const latencyHelp = 'End-to-end turn latency (caller stops speaking -> persona audio starts), from turn_metrics.';
  const latency = {
    name: latencyName,
    help: latencyHelp,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const bucketSql = turnLatencyBuckets.map((_, i) => `count(*) filter (where end_to_end_ms <= $${i + 1}) as b${i}`).join(', ');
      const [row] = await query<Record<string, string>>(
        `select ${bucketSql}, count(*) as n, coalesce(sum(end_to_end_ms), 0) as total from turn_metrics where end_to_end_ms is not null`,
        turnLatencyBuckets.map((seconds) => seconds * 1000),
      );
      const count = Number(row?.n ?? 0);
      return {
        name: latencyName,
        help: latencyHelp,
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...turnLatencyBuckets.map((le, i) => ({ metricName: `${latencyName}_bucket`, labels: { le }, value: Number(row?.[`b${i}`] ?? 0) })),
          { metricName: `${latencyName}_bucket`, labels: { le: '+Inf' }, value: count },
          { metricName: `${latencyName}_sum`, labels: {}, value: Number(row?.total ?? 0) / 1000 },
          { metricName: `${latencyName}_count`, labels: {}, value: count },
        ],
      };
    },
  };
  registry.registerMetric(latency as unknown as Metric);

  return { contentType: registry.contentType, metrics: () => registry.metrics(), registry };
}
