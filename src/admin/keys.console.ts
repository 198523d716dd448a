// The console's signing-key pages, mounted on the admin console's router behind its gate (admin
// role, MFA, CSRF on every form; src/admin/console.pages.ts):
//   GET /admin/keys · GET|POST /admin/keys/rotate · GET|POST /admin/keys/:kid/revoke
// Both changes are confirmed first (a page that says what happens), made by the keys service the
// CLI and the admin API use, audited as they audit them (keys.rotated, keys.revoked), and re-read
// by this node at once (the others within GATEHOUSE_KEY_REFRESH_SECONDS).
import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { guard, guarded } from '../http/guard.ts';
import { AppError } from '../errors/app-error.ts';
import type { PageRenderer } from '../http/page.ts';
import type { Audit } from '../audit/audit.ts';
import { SIGNING_ALGS, type KeyService, type PublicKeyInfo } from '../keys/key.service.ts';
import type { AdminOrigin } from './admin.service.ts';

const NOTICES = { rotated: 'New signing keys published.', revoked: 'Key withdrawn: tokens it signed no longer verify.' } as const;
type Notice = keyof typeof NOTICES;
const noticeOf = (key: unknown) => (typeof key === 'string' && Object.hasOwn(NOTICES, key) ? NOTICES[key as Notice] : undefined);

const rotateForm = z.object({
  alg: z.enum(['all', ...SIGNING_ALGS]).default('all'),
  when: z.enum(['delay', 'now']).default('delay'),
}).catchall(z.string().max(200));

/** How the page names a key's state: a pending key is the next one to sign. */
const STATE = { active: 'active', pending: 'next', retired: 'retired' } as const;

export interface KeyConsoleDeps {
  keys: KeyService;
  audit: Audit;
  render: PageRenderer;
  form: Middleware[];
  origin: (ctx: Context) => AdminOrigin;
  /** re-reads the signing keys on this node (the provider host's refresh) */
  keysChanged: () => Promise<unknown>;
  /** GATEHOUSE_KEY_ACTIVATION_DELAY_SECONDS, said on the rotate page */
  activationDelaySeconds: number;
}

export function addKeyConsole(router: Router, deps: KeyConsoleDeps): void {
  const { keys, audit, render, form, origin } = deps;
  // the change is committed: should this node fail to re-read it now, its next refresh will
  const changed = () => deps.keysChanged().catch(() => undefined);
  const view = (k: PublicKeyInfo) => ({ ...k, state: STATE[k.status] });
  const back = (ctx: Context, done: Notice) => { ctx.redirect(`/admin/keys?done=${done}`); ctx.status = 303; };
  async function find(kid: string) {
    const key = (await keys.list()).find((k) => k.kid === kid);
    if (!key) throw new AppError(404, 'not_found', `No signing key "${kid}". It may have been withdrawn or have expired already.`);
    return view(key);
  }

  router.get('/keys', async (ctx) => {
    const now = await keys.now();
    const list = (await keys.list(now)).map(view)
      .sort((a, b) => a.alg.localeCompare(b.alg) || ['active', 'next', 'retired'].indexOf(a.state) - ['active', 'next', 'retired'].indexOf(b.state));
    render(ctx, 'keys', { title: 'Signing keys', keys: list, now, done: noticeOf(ctx.query.done) });
  });

  router.get('/keys/rotate', (ctx) => {
    render(ctx, 'key-rotate', { title: 'Rotate signing keys?', algs: SIGNING_ALGS, values: { alg: 'all', when: 'delay' }, delay: deps.activationDelaySeconds });
  });
  router.post('/keys/rotate', ...form, guard({ body: rotateForm }), async (ctx) => {
    const b = guarded(ctx, { body: rotateForm }).body;
    let rotated: { kids: string[]; activatesAt: Date };
    try {
      rotated = await keys.rotate(b.alg === 'all' ? SIGNING_ALGS : [b.alg], { activateInSeconds: b.when === 'now' ? 0 : undefined });
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500) throw e;
      return render(ctx, 'key-rotate', { title: 'Rotate signing keys?', algs: SIGNING_ALGS, values: b, delay: deps.activationDelaySeconds, error: e.message }, 400);
    }
    await audit.record({ type: 'keys.rotated', ...origin(ctx), data: { kids: rotated.kids, activates_at: rotated.activatesAt.toISOString() } });
    await changed();
    back(ctx, 'rotated');
  });

  router.get('/keys/:kid/revoke', async (ctx) => {
    const key = await find(ctx.params.kid!);
    render(ctx, 'key-revoke', { title: 'Withdraw this signing key?', key }, key.state === 'active' ? 409 : 200);
  });
  router.post('/keys/:kid/revoke', ...form, async (ctx) => {
    let revoked: PublicKeyInfo;
    try {
      revoked = await keys.revoke(ctx.params.kid!);
    } catch (e) {
      if (!(e instanceof AppError) || e.status >= 500 || e.code === 'not_found') throw e;
      return render(ctx, 'key-revoke', { title: 'Withdraw this signing key?', key: await find(ctx.params.kid!), error: e.message }, e.status);
    }
    await audit.record({ type: 'keys.revoked', ...origin(ctx), data: { kid: revoked.kid, alg: revoked.alg, was: revoked.status } });
    await changed();
    back(ctx, 'revoked');
  });
}
