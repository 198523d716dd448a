// Hosted interaction pages. GET /interaction/:uid switches on the prompt; each POST asserts the
// prompt it expects, does one job and finishes. The order of routes is the whole flow:
//   GET  /interaction/:uid            login or consent page
//   POST /interaction/:uid/login      password sign-in
//   GET  /interaction/:uid/signup     sign-up form         POST → mails a code
//   GET  /interaction/:uid/verify     enter the code       POST → creates the account, signs in
//   POST /interaction/:uid/confirm    consent
//   POST /interaction/:uid/abort      decline (access_denied to the app)
import Router from '@koa/router';
import type { Context } from 'koa';
import { createLoginHandlers } from './login.ts';
import { createSignupHandlers } from './signup.ts';
import { createConsentHandlers } from './consent.ts';
import { loadInteraction, type InteractionDeps } from './context.ts';
import { requireCsrf } from '../security/csrf.ts';
import { formBody } from '../http/body.ts';

export function createInteractionRouter(deps: InteractionDeps): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const login = createLoginHandlers(deps);
  const signup = createSignupHandlers(deps);
  const consent = createConsentHandlers(deps);
  const post = [formBody(), requireCsrf(new URL(deps.config.issuer).origin)];

  router.use(async (ctx: Context, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });

  router.get('/', async (ctx) => {
    const details = await loadInteraction(deps, ctx);
    if (details.prompt.name === 'login') return login.show(ctx, details);
    if (details.prompt.name === 'consent') return consent.show(ctx, details);
    ctx.throw(400, 'unsupported prompt');
  });
  router.post('/login', ...post, login.submit);
  router.get('/signup', signup.form);
  router.post('/signup', ...post, signup.submit);
  router.get('/verify', signup.verifyForm);
  router.post('/verify', ...post, signup.verify);
  router.post('/confirm', ...post, consent.confirm);
  router.post('/abort', ...post, consent.abort);
  return router;
}
