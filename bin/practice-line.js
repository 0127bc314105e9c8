#!/usr/bin/env node
// `practice-line` on the PATH (npm link, or npx in this folder): the admin CLI, run from source
// through tsx like `npm start`, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
