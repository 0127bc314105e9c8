// /metrics reads whole tables: it is served on the ops listener (loopback by default) and, on the
// public port, only to the METRICS_TOKEN bearer; the public /readyz gives states without details.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.js';
import { createMetricsRegistry } from '../../src/adapters/metrics.js';
import { databaseReadiness } from '../../src/adapters/readiness.js';
import { createHttpApp } from '../../src/http/app.js';
import { createOpsApp, type OpsDeps } from '../../src/http/ops_router.js';
import { listen, type RunningServer } from '../../src/http/server.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const TOKEN = 'metrics-token-0123456789abcdef';
let database: TestDatabase;
const servers: RunningServer[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  for (const server of servers) await server.close();
  await database?.close();
});

function opsDeps(): OpsDeps {
  return {
    checks: {
      database: databaseReadiness(database.ping),
      livekit: async () => ({ state: 'failing', detail: 'connect ECONNREFUSED 10.1.2.3:7880' }),
    },
    metrics: createMetricsRegistry({ pool: database.pool, processMetrics: false }),
  };
}

async function serve(app: Parameters<typeof listen>[0]): Promise<string> {
  const server = await listen(app, 0, '127.0.0.1');
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

const publicApp = (ops: OpsDeps) => createHttpApp({ logger: createLogger({ level: 'silent', redactPii: false }), health: { pingDatabase: database.ping, integrations: {} as never }, ops });

describe('metrics access', () => {
  it('the public port serves /metrics only to the bearer of METRICS_TOKEN', async () => {
    const base = await serve(publicApp({ ...opsDeps(), readinessDetail: false, metricsToken: TOKEN }));
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789abcdeX' } })).status).toBe(401);
    const ok = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('practice_line_calls');
  });

  it('without a token the public port has no /metrics, and its /readyz names states but no details', async () => {
    const { checks } = opsDeps();
    const base = await serve(publicApp({ checks, readinessDetail: false }));
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not_ready', checks: { database: { state: 'ok' }, livekit: { state: 'failing' } } });
  });

  it('the ops listener serves /metrics and the detailed /readyz', async () => {
    const base = await serve(createOpsApp(opsDeps()));
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    const body = (await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, { detail?: string }> };
    expect(body.checks.livekit?.detail).toContain('ECONNREFUSED');
    expect((await fetch(`${base}/calls`)).status).toBe(404);
  });
});
