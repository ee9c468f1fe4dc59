/**
 * The headless Chromium every browser test drives (the system's /usr/bin/chromium through
 * playwright-core), started one way: no sandbox, GPU, sync or background traffic.
 */
import { chromium, type Browser } from 'playwright-core';

export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A fresh headless Chromium; the test closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
}
