// The pages at the root of the site:
//   GET  /               fresh install (no administrator): what Gatehouse is and what to do next;
//                        later a small landing page (GATEHOUSE_HOME=page), a 404 (off) or a redirect
//   GET  /favicon.ico    the shipped icon, or a redirect to GATEHOUSE_BRAND_FAVICON_URL
//   GET  /setup/:token   the one-time setup link from the boot log: the token moves into a
//                        short-lived HttpOnly cookie and the browser goes on to /setup (the request
//                        log records the route pattern, never the token)
//   GET  /setup          the form that creates the first administrator      POST /setup
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '../config/index.ts';
import type { Views } from '../render/views.ts';
import { createPageRenderer } from '../http/page.ts';
import { pageLanguage } from '../http/locale.ts';
import { formBody } from '../http/body.ts';
import { guard, guarded } from '../http/guard.ts';
import { requireCsrf } from '../security/csrf.ts';
import { linkSecret } from '../security/link-secret.ts';
import { requestOrigin } from '../audit/audit.ts';
import { SETUP_TOKEN_TTL_SECONDS, type FieldProblem, type Setup } from './setup.service.ts';

const FAVICON = readFileSync(fileURLToPath(new URL('../../views/assets/favicon.ico', import.meta.url)));
const DISCOVERY_PATH = '/.well-known/openid-configuration';

const text = z.string().max(1024).default('');
const setupForm = { body: z.object({ email: text, name: text, password: text, confirm_password: text }) };

export interface HomeDeps {
  setup: Setup;
  views: Views;
  config: Pick<Config, 'issuer' | 'home' | 'brand'>;
}

export function createHomeRouter(deps: HomeDeps): Router {
  const { setup, views, config } = deps;
  const router = new Router();
  const secure = config.issuer.startsWith('https:');
  const page = createPageRenderer({ views, secure });
  const t = (ctx: Context) => views.i18n.translator(pageLanguage(ctx));
  const setupLink = linkSecret({ cookie: 'gh_setup', path: '/setup', page: '/setup', maxAgeSeconds: SETUP_TOKEN_TTL_SECONDS, secure });
  const csrf = requireCsrf(new URL(config.issuer).origin);
  const common = { issuer: config.issuer, discovery: DISCOVERY_PATH, ttlMinutes: SETUP_TOKEN_TTL_SECONDS / 60 };

  router.get('/', async (ctx) => {
    if (!(await setup.adminExists())) {
      return page(ctx, 'home', { ...common, title: t(ctx)('home:fresh.title', { name: config.brand.name }), mode: 'fresh', wide: true });
    }
    const home = config.home;
    if (home.kind === 'redirect') { ctx.status = 302; return ctx.redirect(home.url); }
    if (home.kind === 'off') return page(ctx, 'home', { ...common, title: t(ctx)('home:off.title'), mode: 'off' }, 404);
    page(ctx, 'home', { ...common, title: t(ctx)('home:landing.title'), mode: 'landing' });
  });

  router.get('/favicon.ico', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=86400');
    if (config.brand.faviconUrl && config.brand.faviconUrl !== '/favicon.ico') { ctx.status = 302; return ctx.redirect(config.brand.faviconUrl); }
    ctx.type = 'image/x-icon';
    ctx.body = FAVICON;
  });

  /** The setup form, or a page saying why the link no longer works. */
  async function showSetup(ctx: Context, opts: { problems?: FieldProblem[]; email?: string; name?: string } = {}, status = 200) {
    const token = setupLink.read(ctx);
    if (!token || !(await setup.canSetUp(token))) return expired(ctx);
    const tr = t(ctx);
    const errors: Record<string, string> = {};
    for (const p of opts.problems ?? []) errors[p.field] ??= tr(`home:setup.errors.${p.key}`, p.vars);
    page(ctx, 'setup', { ...common, title: tr('home:setup.title'), errors, email: opts.email ?? '', name: opts.name ?? '' }, status);
  }

  async function expired(ctx: Context) {
    const adminExists = await setup.adminExists();
    if (adminExists) setupLink.clear(ctx);
    page(ctx, 'setup-expired', { ...common, title: t(ctx)('home:expired.title'), adminExists }, 410);
  }

  router.get('/setup/:token', (ctx) => setupLink.keepAndRedirect(ctx, ctx.params.token ?? ''));
  router.get('/setup', (ctx) => showSetup(ctx));
  router.post('/setup', formBody(), csrf, guard(setupForm), async (ctx) => {
    const form = guarded(ctx, setupForm).body;
    const result = await setup.createFirstAdmin(setupLink.read(ctx), {
      email: form.email, name: form.name, password: form.password, confirmPassword: form.confirm_password,
    }, requestOrigin(ctx));
    if (result.ok) {
      setupLink.clear(ctx);
      ctx.status = 303;
      return ctx.redirect('/admin');
    }
    if (result.reason !== 'invalid') return expired(ctx);
    await showSetup(ctx, { problems: result.problems, email: form.email, name: form.name }, 400);
  });
  return router;
}
