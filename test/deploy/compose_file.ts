// docker-compose.yml read the way Docker Compose reads it, for checks without a Docker engine:
// YAML with merge keys, then ${VAR} interpolation from an environment (compose-spec
// "interpolation.md": ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../support/process.js';

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  volumes?: string[];
  ports?: string[];
  network_mode?: string;
  profiles?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  mem_limit?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export const composeText = readFileSync(join(projectRoot, 'docker-compose.yml'), 'utf8');

export class InterpolationError extends Error {}

/** Replaces every ${…} in `text` as Compose does; a missing required variable throws its message. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])((?:[^}])*))?\}/g, (whole, name: string | undefined, colon: string, op: string, arg: string) => {
    if (whole === '$$') return '$';
    const value = env[name!];
    const unset = value === undefined || (colon === ':' && value === '');
    if (op === '-') return unset ? arg : value!;
    if (op === '?') {
      if (unset) throw new InterpolationError(`${name}: ${arg}`);
      return value!;
    }
    return value ?? '';
  });
}

/** The compose file as `docker compose config` would see it with `env` (merge keys resolved). */
export function renderCompose(env: Record<string, string | undefined>): ComposeFile {
  return parse(interpolate(composeText, env), { merge: true }) as ComposeFile;
}

/** The file before interpolation (merge keys resolved), for checks on the ${…} themselves. */
export const composeRaw = parse(composeText, { merge: true }) as ComposeFile;
