// Entry of the phone's media thread (see media.ts): a worker does not inherit the parent's
// TypeScript loader under every runner (vitest brings its own), so it registers tsx's first.
import { register } from 'tsx/esm/api';

register();
await import('./media_thread.ts');
