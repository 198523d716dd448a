// Headless Chromium for the hosted-page tests: the system browser (Debian's chromium package),
// never a downloaded one, with everything that phones home switched off.
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_EXECUTABLE } from './env.ts';
import { stopAtTeardown } from './leftovers.ts';

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

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_EXECUTABLE, args: ARGS });
  const forget = stopAtTeardown(() => browser.close());
  browser.once('disconnected', forget);
  return browser;
}

/** A fresh context: its own cookies, so each test is a new visitor. */
export function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: VIEWPORTS.desktop });
}

export interface RelyingParty {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** every URL the browser was sent to, in order */
  hits: URL[];
  close(): Promise<void>;
}

/**
 * Where the app would be: a tiny HTTP server that answers "ok" and records each URL, so a test can
 * read the code (or error) from the redirect. A real listener, because Playwright's page.route()
 * does not intercept the target of a redirect, and every return to the app is a 303.
 */
export async function startRelyingParty(): Promise<RelyingParty> {
  const hits: URL[] = [];
  const server = createServer((req, res) => {
    hits.push(new URL(req.url ?? '/', origin));
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin, hits,
    close: () => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }),
  };
}

/**
 * Saves `<name>-desktop.png` and `<name>-phone.png` of the current page, and `<name>-phone-dark.png`
 * in the dark colour scheme, then restores the desktop size and light scheme.
 */
export async function screenshot(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const files: string[] = [];
  const shoot = async (file: string) => {
    const path = join(SCREENSHOT_DIR, `${file}.png`);
    await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
    files.push(path);
  };
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await shoot(`${name}-${size}`);
  }
  await page.emulateMedia({ colorScheme: 'dark' });
  await shoot(`${name}-phone-dark`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(VIEWPORTS.desktop);
  return files;
}

/** Fills the hosted sign-in form the way a person would (fields found by their labels). */
export async function signInAs(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
