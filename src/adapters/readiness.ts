// Readiness checks for GET /readyz, one per dependency a call needs.
import { RoomServiceClient } from 'livekit-server-sdk';
import type pg from 'pg';
import type { AgentAvailability } from '../app/ports.js';
import type { ReadinessCheck } from '../http/ops_router.js';

export function databaseReadiness(ping: () => Promise<boolean>): ReadinessCheck {
  return async () => ((await ping()) ? { state: 'ok' } : { state: 'failing', detail: 'database ping failed' });
}

/**
 * Lists rooms with the API key, so a wrong key or secret shows as failing too, not only an
 * unreachable server. Without LiveKit keys the check is skipped (the web view still works).
 */
export function livekitReadiness(keys: { url: string; apiKey: string; apiSecret: string } | null): ReadinessCheck {
  if (keys === null) return async () => ({ state: 'skipped', detail: 'LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET not set' });
  // The SDK wants the http(s) origin; LIVEKIT_URL is usually the ws(s) one.
  const rooms = new RoomServiceClient(keys.url.replace(/^ws(s?):\/\//, 'http$1://'), keys.apiKey, keys.apiSecret);
  return async () => {
    try {
      await rooms.listRooms();
      return { state: 'ok' };
    } catch (error) {
      return { state: 'failing', detail: `LiveKit at ${keys.url}: ${error instanceof Error ? error.message : String(error)}` };
    }
  };
}

/** The post-call worker runs in this process and pg-boss's queue row exists. */
export function postCallQueueReadiness(pool: pg.Pool, isRunning: () => boolean): ReadinessCheck {
  return async () => {
    if (!isRunning()) return { state: 'failing', detail: 'post-call worker not running' };
    const { rows } = await pool.query<{ ok: boolean }>(
      `select to_regclass('pgboss.queue') is not null and exists (select 1 from pgboss.queue where name = 'post-call') as ok`,
    ).catch(() => ({ rows: [{ ok: false }] }));
    return rows[0]?.ok ? { state: 'ok' } : { state: 'failing', detail: 'post-call queue missing in the database' };
  };
}

/** A persona can take a call (the agent worker answers its health endpoint); skipped when not configured. */
export function agentReadiness(availability: AgentAvailability | null): ReadinessCheck {
  if (availability === null) return async () => ({ state: 'skipped', detail: 'AGENT_HEALTH_URL not set' });
  return async () => {
    const { available, detail } = await availability();
    return available ? { state: 'ok' } : { state: 'failing', detail: detail ?? 'no agent worker available' };
  };
}
