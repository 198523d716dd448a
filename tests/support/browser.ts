// Headless Chromium for the hosted-page tests: the system browser (Debian's chromium package),
// never a downloaded one, with everything that phones home switched off.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../artifacts/screenshots');

/** The two sizes every page is checked at: a laptop and a current phone. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: EXECUTABLE, args: ARGS });
}

/**
 * A fresh context (own cookies) whose relying-party origin answers "ok" without a server, so the
 * test can read the code from the redirect URL. `hits` records every request made to it.
 */
export async function newRpContext(browser: Browser, rpOrigin: string): Promise<{ context: BrowserContext; page: Page; hits: string[] }> {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
  const hits: string[] = [];
  await context.route(`${rpOrigin}/**`, (route) => {
    hits.push(route.request().url());
    return route.fulfill({ status: 200, contentType: 'text/plain', body: 'ok' });
  });
  const page = await context.newPage();
  return { context, page, hits };
}

/** Saves `<name>-desktop.png` and `<name>-phone.png` of the current page, then restores the desktop size. */
export async function screenshot(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const files: string[] = [];
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    const path = join(SCREENSHOT_DIR, `${name}-${size}.png`);
    await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
    files.push(path);
  }
  await page.setViewportSize(VIEWPORTS.desktop);
  return files;
}
