// docs/webhooks.md lists every event type and its data as the catalog (src/webhooks/events.ts)
// defines them: the section is generated from the catalog, and this test fails when the two differ.
// After changing the catalog: UPDATE_WEBHOOK_DOCS=1 npm test -- tests/unit/webhook-docs.test.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ALL_EVENTS, TEST_EVENT_TYPE, WEBHOOK_EVENTS } from '../../src/webhooks/events.ts';

const DOC = resolve(import.meta.dirname, '../../docs/webhooks.md');
const START = /<!-- webhook-events:start[^>]*-->\n/;
const END = '<!-- webhook-events:end -->';

const cell = (s: string) => s.replaceAll('|', '\\|');

function eventSection(): string {
  const out: string[] = [''];
  out.push('| type | when | fired by (audit events) |', '|---|---|---|');
  for (const e of WEBHOOK_EVENTS) out.push(`| [\`${e.type}\`](#${e.type.replaceAll('.', '')}) | ${cell(e.summary)} | ${e.audit.map((a) => `\`${a}\``).join(', ')} |`);
  out.push(`| \`${TEST_EVENT_TYPE}\` | A test message sent on request (\`gatehouse webhooks test\`, the console's "Send test"); \`data: {endpoint_id}\`. Not subscribable; never retried. | — |`, '');
  for (const e of WEBHOOK_EVENTS) {
    out.push(`### \`${e.type}\``, '', cell(e.summary), '', '| `data` field | meaning |', '|---|---|');
    for (const [field, meaning] of Object.entries(e.fields)) out.push(`| \`${field}\` | ${cell(meaning)} |`);
    out.push('');
  }
  out.push(`Subscribe to \`${ALL_EVENTS}\` to receive every type, including those added later.`, '');
  return out.join('\n');
}

describe('docs/webhooks.md', () => {
  it('lists every event type with its data exactly as the catalog defines them', () => {
    const doc = readFileSync(DOC, 'utf8');
    const start = START.exec(doc);
    const end = doc.indexOf(END);
    expect(start).not.toBeNull();
    expect(end).toBeGreaterThan(start!.index);
    const from = start!.index + start![0].length;
    const expected = eventSection();
    if (process.env.UPDATE_WEBHOOK_DOCS === '1') writeFileSync(DOC, doc.slice(0, from) + expected + doc.slice(end));
    else expect(doc.slice(from, end)).toBe(expected);
  });

  it('names only event types the catalog has', () => {
    const doc = readFileSync(DOC, 'utf8');
    const known = new Set([...WEBHOOK_EVENTS.map((e) => e.type), TEST_EVENT_TYPE]);
    const named = [...doc.matchAll(/^### `([a-z_.]+)`$/gm)].map((m) => m[1]!);
    expect(named.filter((t) => !known.has(t))).toEqual([]);
    expect(named).toEqual(WEBHOOK_EVENTS.map((e) => e.type));
  });
});
