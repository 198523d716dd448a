// The one way a hosted page is rendered: HTML, never cached, with the form's CSRF token. Each area
// (sign-in, account, workspaces, admin console) adds only what its own layout needs — a nav, the
// signed-in viewer — through `extra`.
import type { Context } from 'koa';
import type { Views } from '../render/views.ts';
import { csrfToken } from '../security/csrf.ts';
import { pageLanguage } from './locale.ts';

export interface PageData extends Record<string, unknown> { title: string }

export interface PageRenderer {
  (ctx: Context, template: string, data: PageData, status?: number): void;
}

/**
 * A renderer for one area of hosted pages. `secure`: the issuer is https (the CSRF cookie is then
 * Secure); `extra`: what every page of that area also gets (computed per request).
 */
export function createPageRenderer(opts: {
  views: Views;
  secure: boolean;
  extra?: (ctx: Context, data: PageData) => Record<string, unknown>;
  /** template name prefix, e.g. `admin/` */
  prefix?: string;
}): PageRenderer {
  return (ctx, template, data, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    const lang = pageLanguage(ctx);
    ctx.set('Content-Language', lang);
    ctx.body = opts.views.render(`${opts.prefix ?? ''}${template}`, {
      lang, ...data, ...opts.extra?.(ctx, data), csrf: csrfToken(ctx, opts.secure),
    });
  };
}
