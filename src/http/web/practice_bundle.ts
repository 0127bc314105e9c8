// The practice page's script: client/practice.js with livekit-client bundled in by esbuild, built
// once per process on first request and served from memory by us (no CDN, so script-src 'self' holds).
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import { build } from 'esbuild';

export const practiceScriptPath = '/assets/practice.js';

const entry = fileURLToPath(new URL('./client/practice.js', import.meta.url));

let bundle: Promise<string> | undefined;

export function buildPracticeBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  })
    .then((result) => result.outputFiles[0]!.text)
    .catch((error: unknown) => {
      // Try again on the next request rather than caching a failure.
      bundle = undefined;
      throw error;
    });
  return bundle;
}

export function addPracticeBundleRoute(router: Router): void {
  router.get(practiceScriptPath, async (_req, res) => {
    const code = await buildPracticeBundle();
    res.set('Cache-Control', 'private, max-age=3600').type('text/javascript').send(code);
  });
}
