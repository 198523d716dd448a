// The message catalogs are complete: every language has every key of English with the same
// {{placeholders}}, every key a template or page asks for exists, and no hosted page or mail has a
// sentence written straight into its template (it would stay English in every language).
// The operators' console (views/admin/) is English only and is not checked here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createI18n, LANGUAGES } from '../../src/render/i18n.ts';

const ROOT = join(import.meta.dirname, '../..');
const i18n = createI18n();

function flatten(obj: Record<string, unknown>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') for (const [kk, vv] of flatten(v as Record<string, unknown>, key)) out.set(kk, vv);
    else out.set(key, String(v));
  }
  return out;
}

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, ext) : ext.test(name) ? [path] : [];
  });
}

const placeholders = (s: string) => [...s.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]).sort();
/** i18next plural forms (_one, _other, _zero …) differ by language; compare their base keys. */
const base = (key: string) => key.replace(/_(zero|one|two|few|many|other)$/, '');

describe('message catalogs', () => {
  it.each(i18n.namespaces)('namespace %s has every English key in every language, with the same placeholders', (ns) => {
    const en = flatten(i18n.catalog('en', ns));
    expect(en.size).toBeGreaterThan(0);
    for (const lang of LANGUAGES.filter((l) => l !== 'en')) {
      const other = flatten(i18n.catalog(lang, ns));
      const enBases = new Set([...en.keys()].map(base));
      const otherBases = new Set([...other.keys()].map(base));
      expect({ lang, ns, missing: [...enBases].filter((k) => !otherBases.has(k)) }).toEqual({ lang, ns, missing: [] });
      expect({ lang, ns, extra: [...otherBases].filter((k) => !enBases.has(k)) }).toEqual({ lang, ns, extra: [] });
      for (const [key, value] of other) {
        expect({ lang, ns, key, empty: value.trim() === '' }).toEqual({ lang, ns, key, empty: false });
        const enValue = en.get(key) ?? en.get(`${base(key)}_other`) ?? en.get(base(key));
        if (enValue !== undefined) expect({ lang, ns, key, vars: placeholders(value) }).toEqual({ lang, ns, key, vars: placeholders(enValue) });
      }
    }
  });

  it('every key a template or page names exists in English', () => {
    const sources = [
      ...files(join(ROOT, 'views'), /\.eta$/).filter((f) => !f.includes('/views/admin/')),
      ...files(join(ROOT, 'src'), /\.ts$/),
    ];
    const unknown: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-z][\w-]*:[\w.-]+)'/g)) {
        const [ns, key] = m[1].split(':');
        const cat = flatten(i18n.catalog('en', ns));
        if (!cat.has(key) && !cat.has(`${key}_one`) && !cat.has(`${key}_other`)) unknown.push(`${relative(ROOT, file)}: ${m[1]}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});

/** What a template would print as literal text: everything outside eta tags and HTML markup. */
function literalText(template: string): string[] {
  const withoutEta = template.replace(/<%[\s\S]*?%>/g, ' ');
  const withoutScripts = withoutEta.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<!--[\s\S]*?-->/g, ' ');
  const found: string[] = [];
  // attribute values people read
  for (const m of withoutScripts.matchAll(/\b(placeholder|aria-label|title|alt|value|aria-description)="([^"]*)"/g)) {
    if (m[1] === 'value' && !/[A-Za-z]{3,}\s+[A-Za-z]/.test(m[2])) continue; // hidden form values are data, not words
    if (/[A-Za-z]{2,}/.test(m[2])) found.push(`${m[1]}="${m[2].trim()}"`);
  }
  const text = withoutScripts.replace(/<[^>]*>/g, '\n').replace(/&[a-z#0-9]+;/gi, ' ');
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (/[A-Za-z]{2,}/.test(t)) found.push(t);
  }
  return found;
}

describe('no hosted page or mail has untranslated text', () => {
  const templates = files(join(ROOT, 'views'), /\.eta$/).filter((f) => !f.includes('/views/admin/'));
  it.each(templates.map((f) => relative(ROOT, f)))('%s prints words only from the catalog', (file) => {
    expect(literalText(readFileSync(join(ROOT, file), 'utf8'))).toEqual([]);
  });
});
