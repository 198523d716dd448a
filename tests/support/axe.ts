// Accessibility checks with axe-core inside the page under test (WCAG 2.0/2.1/2.2 A and AA rules:
// labels, contrast, landmarks, focusable order …). The script is injected from node_modules, so the
// page's CSP (script-src 'self') is bypassed the way Playwright's addScriptTag with content is.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation { id: string; impact?: string | null; help: string; targets: string[] }

/** The WCAG A/AA violations on the page as it is now ([] when there are none). */
export async function axeViolations(page: Page, opts: { exclude?: string[] } = {}): Promise<AxeViolation[]> {
  const has = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
  if (!has) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (exclude) => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const result = await axe.run({ exclude: exclude.map((s) => [s]) }, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  }, opts.exclude ?? []);
}

/** Throws with a readable list when the page has WCAG A/AA violations, in light and dark schemes. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  const found: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const v of await axeViolations(page)) found.push(`${name} (${scheme}): ${v.id} — ${v.help} at ${v.targets.slice(0, 3).join(', ')}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (found.length) throw new Error(`accessibility violations:\n${found.join('\n')}`);
}
