// The deployer's brand on every hosted page, mail and the console: a name, a logo, a favicon, an
// accent colour and a way to reach support (GATEHOUSE_BRAND_* in docs/configuration.md). Colours are
// checked for contrast when the configuration is read, so a brand cannot make a page unreadable.

export interface Brand {
  /** Shown in titles, the header, mail and TOTP apps. */
  name: string;
  /** https URL (or a path under /assets/) of a logo shown in the header instead of the default mark. */
  logoUrl?: string;
  faviconUrl?: string;
  /** #rrggbb, used for buttons and links on a light page (≥ 4.5:1 against white). */
  color?: string;
  /** #rrggbb for dark mode (≥ 4.5:1 against the dark card); without it dark mode keeps its own accent. */
  colorDark?: string;
  /** Where a stuck person gets help: an https URL or a mailto: address. */
  supportUrl?: string;
}

export const DEFAULT_BRAND: Brand = { name: 'Gatehouse' };

const LIGHT_CARD = '#ffffff';
const DARK_CARD = '#1c2029';

function channel(hex: string, i: number): number {
  const c = parseInt(hex.slice(1 + i * 2, 3 + i * 2), 16) / 255;
  return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function luminance(hex: string): number {
  return 0.2126 * channel(hex, 0) + 0.7152 * channel(hex, 1) + 0.0722 * channel(hex, 2);
}

/** WCAG 2 contrast ratio of two #rrggbb colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Text on a filled button of this colour: whichever of white or near-black reads better. */
export function textOn(color: string): string {
  return contrastRatio(color, '#ffffff') >= contrastRatio(color, '#111111') ? '#ffffff' : '#111111';
}

/** A sentence saying why a brand colour cannot be used, or undefined when it can. */
export function brandColorProblem(color: string, dark = false): string | undefined {
  if (!/^#[0-9a-fA-F]{6}$/.test(color)) return `expected a colour such as #2b59c3 (got "${color}")`;
  const card = dark ? DARK_CARD : LIGHT_CARD;
  const ratio = contrastRatio(color, card);
  if (ratio < 4.5) {
    return `${color} has a contrast of ${ratio.toFixed(2)}:1 against the ${dark ? 'dark' : 'white'} page; links and buttons need at least 4.5:1 (WCAG AA). Choose a ${dark ? 'lighter' : 'darker'} shade.`;
  }
  return undefined;
}

/** The stylesheet /assets/brand.css: the brand's colours as the pages' CSS variables. */
export function brandCss(brand: Brand): string {
  const rules: string[] = ['/* the deployer\'s brand (GATEHOUSE_BRAND_*) */'];
  if (brand.color) {
    const c = brand.color.toLowerCase();
    rules.push(`:root { --accent: ${c}; --accent-hover: ${c}; --focus: ${c}; --on-accent: ${textOn(c)}; }`);
    if (!brand.colorDark) rules.push('@media (prefers-color-scheme: dark) { :root { --accent: #8fb0f5; --accent-hover: #b0c8f8; --focus: #a8c7fa; --on-accent: #0d1530; } }');
  }
  if (brand.colorDark) {
    const d = brand.colorDark.toLowerCase();
    rules.push(`@media (prefers-color-scheme: dark) { :root { --accent: ${d}; --accent-hover: ${d}; --focus: ${d}; --on-accent: ${textOn(d)}; } }`);
  }
  return `${rules.join('\n')}\n`;
}
