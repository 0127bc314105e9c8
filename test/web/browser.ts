// Debian's chromium driven by playwright-core: nothing is downloaded.
import { chromium, type Browser } from 'playwright-core';

/**
 * playwright refuses `--user-data-dir` with launch(); instead it gives every launch a fresh
 * temporary profile of its own and deletes it on close, which is what we want.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
