// Operational endpoints next to /healthz (liveness): GET /readyz says whether this instance can
// take calls now (database, LiveKit, post-call queue), GET /metrics is the Prometheus scrape.
// The scrape reads whole tables, so it is not for anyone who can reach the public port: it lives on
// a separate listener bound to localhost (createOpsApp), and on the public port only behind a token.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, Router } from 'express';

export type ReadinessState = 'ok' | 'failing' | 'skipped';

export interface ReadinessResult {
  state: ReadinessState;
  /** Why a check failed or was skipped; never a secret. */
  detail?: string;
  latencyMs?: number;
}

/** A check resolves with its result; a throw or a timeout counts as failing. */
export type ReadinessCheck = () => Promise<ReadinessResult>;

export interface OpsDeps {
  checks: Record<string, ReadinessCheck>;
  metrics?: { contentType: string; metrics(): Promise<string> };
  /** Per-check limit; a hung dependency must not hang the probe. Default 3000 ms. */
  checkTimeoutMs?: number;
  onMetricsError?: (error: unknown) => void;
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>` (config METRICS_TOKEN). */
  metricsToken?: string;
  /** Failure details (addresses, messages) in /readyz; off on the public port. Default true. */
  readinessDetail?: boolean;
}

const digest = (value: string) => createHash('sha256').update(value).digest();
const bearerMatches = (header: string | undefined, token: string) => {
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
  return presented !== undefined && timingSafeEqual(digest(presented), digest(token));
};

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<ReadinessResult> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      check(),
      new Promise<ReadinessResult>((resolve) => {
        timer = setTimeout(() => resolve({ state: 'failing', detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      }),
    ]);
    return { latencyMs: Math.round(performance.now() - started), ...result };
  } catch (error) {
    return { state: 'failing', detail: error instanceof Error ? error.message : String(error), latencyMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

export function makeOpsRouter(deps: OpsDeps): Router {
  const router = Router();
  const timeoutMs = deps.checkTimeoutMs ?? 3000;

  router.get('/readyz', async (_req, res) => {
    const names = Object.keys(deps.checks);
    const results = await Promise.all(names.map((name) => runCheck(deps.checks[name]!, timeoutMs)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
    const ready = results.every((r) => r.state !== 'failing');
    const shown = deps.readinessDetail === false ? Object.fromEntries(names.map((name, i) => [name, { state: results[i]!.state }])) : checks;
    res.status(ready ? 200 : 503).set('cache-control', 'no-store').json({ status: ready ? 'ready' : 'not_ready', checks: shown });
  });

  if (deps.metrics) {
    const metrics = deps.metrics;
    router.get('/metrics', async (req, res) => {
      if (deps.metricsToken !== undefined && !bearerMatches(req.get('authorization'), deps.metricsToken)) {
        res.status(401).set('WWW-Authenticate', 'Bearer').type('text/plain').send('send the metrics token as "Authorization: Bearer <token>"\n');
        return;
      }
      try {
        const body = await metrics.metrics();
        res.status(200).set('content-type', metrics.contentType).set('cache-control', 'no-store').send(body);
      } catch (error) {
        deps.onMetricsError?.(error);
        res.status(503).type('text/plain').send('metrics unavailable: the database cannot be read\n');
      }
    });
  }
  return router;
}

/** The ops listener (METRICS_HOST:METRICS_PORT, localhost by default): /metrics and a detailed /readyz. */
export function createOpsApp(deps: OpsDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(makeOpsRouter(deps));
  return app;
}
