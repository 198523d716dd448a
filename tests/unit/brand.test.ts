// The brand's colours are checked for contrast (WCAG 2: 4.5:1 for text) when the configuration is
// read, so a deployer's colour cannot make the hosted pages unreadable.
import { describe, expect, it } from '@jest/globals';
import { brandColorProblem, brandCss, contrastRatio, textOn } from '../../src/render/brand.ts';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

const BASE = { GATEHOUSE_SECRET: 'k'.repeat(32), NODE_ENV: 'test' } as const;

function refusal(env: NodeJS.ProcessEnv): ConfigError {
  let caught: unknown;
  try { loadConfig(env); } catch (e) { caught = e; }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

describe('contrastRatio', () => {
  it('is 21:1 for black on white, 1:1 for a colour on itself, and symmetric', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#2b59c3', '#2b59c3')).toBeCloseTo(1, 5);
    expect(contrastRatio('#ffffff', '#767676')).toBeCloseTo(contrastRatio('#767676', '#ffffff'), 10);
  });

  it('matches the WCAG reference values (#767676 is the lightest grey at 4.5:1 on white)', () => {
    expect(contrastRatio('#767676', '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio('#777777', '#ffffff')).toBeLessThan(4.5);
    expect(contrastRatio('#ffff00', '#ffffff')).toBeCloseTo(1.07, 2);
  });

  it('puts white text on a dark accent and near-black on a light one', () => {
    expect(textOn('#2b59c3')).toBe('#ffffff');
    expect(textOn('#8fb0f5')).toBe('#111111');
  });
});

describe('brandColorProblem', () => {
  it('accepts the default accent on the light page and refuses it on the dark one', () => {
    expect(brandColorProblem('#2b59c3')).toBeUndefined();
    expect(brandColorProblem('#2b59c3', true)).toMatch(/against the dark page.*Choose a lighter shade/);
    expect(brandColorProblem('#8fb0f5', true)).toBeUndefined();
  });

  it('says why yellow on white cannot be used, with the ratio and the rule', () => {
    expect(brandColorProblem('#ffff00')).toBe('#ffff00 has a contrast of 1.07:1 against the white page; links and buttons need at least 4.5:1 (WCAG AA). Choose a darker shade.');
  });

  it('refuses what is not a #rrggbb colour', () => {
    expect(brandColorProblem('blue')).toMatch(/expected a colour such as #2b59c3 \(got "blue"\)/);
    expect(brandColorProblem('#fff')).toMatch(/expected a colour/);
  });
});

describe('configuration', () => {
  it('refuses GATEHOUSE_BRAND_COLOR=#ffff00 at boot with a sentence', () => {
    const err = refusal({ ...BASE, GATEHOUSE_BRAND_COLOR: '#ffff00' });
    expect(err.message).toBe('GATEHOUSE_BRAND_COLOR: #ffff00 has a contrast of 1.07:1 against the white page; links and buttons need at least 4.5:1 (WCAG AA). Choose a darker shade.');
  });

  it('refuses a dark-mode colour that is too dark for the dark page', () => {
    expect(refusal({ ...BASE, GATEHOUSE_BRAND_COLOR_DARK: '#1f4396' }).message).toMatch(/^GATEHOUSE_BRAND_COLOR_DARK: #1f4396 has a contrast of .* Choose a lighter shade\.$/);
  });

  it('takes a readable brand and turns it into the pages\' CSS variables', () => {
    const c = loadConfig({ ...BASE, GATEHOUSE_BRAND_NAME: 'Acme ID', GATEHOUSE_BRAND_COLOR: '#0b5d1e', GATEHOUSE_BRAND_COLOR_DARK: '#7fd39a', GATEHOUSE_SUPPORT_URL: 'mailto:help@acme.test' });
    expect(c.brand).toEqual({ name: 'Acme ID', color: '#0b5d1e', colorDark: '#7fd39a', supportUrl: 'mailto:help@acme.test', logoUrl: undefined, faviconUrl: undefined });
    const css = brandCss(c.brand);
    expect(css).toContain(':root { --accent: #0b5d1e;');
    expect(css).toContain('@media (prefers-color-scheme: dark) { :root { --accent: #7fd39a;');
  });

  it('GATEHOUSE_HOME is page (default), off, or an https URL to redirect to', () => {
    expect(loadConfig({ ...BASE }).home).toEqual({ kind: 'page' });
    expect(loadConfig({ ...BASE, GATEHOUSE_HOME: 'off' }).home).toEqual({ kind: 'off' });
    expect(loadConfig({ ...BASE, GATEHOUSE_HOME: 'https://www.example.com/' }).home).toEqual({ kind: 'redirect', url: 'https://www.example.com/' });
    expect(refusal({ ...BASE, GATEHOUSE_HOME: 'http://www.example.com/' }).message).toMatch(/GATEHOUSE_HOME: expected page, off or an https:\/\/ URL/);
  });
});
