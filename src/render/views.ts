// Server-rendered pages: eta templates from views/, escaped by default, one layout.
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export interface PageData {
  title: string;
  csrf?: string;
  [key: string]: unknown;
}

export interface Views {
  render(template: string, data: PageData): string;
}

export function createViews(opts: { cache: boolean; productName?: string }): Views {
  const eta = new Eta({ views: VIEWS_DIR, cache: opts.cache, autoEscape: true, autoTrim: false });
  return {
    render(template, data) {
      return eta.render(template, { productName: opts.productName ?? 'Gatehouse', ...data });
    },
  };
}
