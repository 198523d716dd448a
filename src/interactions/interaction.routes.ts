// Hosted interaction pages. GET /interaction/:uid switches on the prompt; each POST asserts the
// prompt it expects, does one job and finishes. The order of routes is the whole flow:
//   GET  /interaction/:uid            login or consent page
//   POST /interaction/:uid/login      password sign-in
//   GET  /interaction/:uid/signup     sign-up form         POST → mails a code
//   GET  /interaction/:uid/verify     enter the code       POST → creates the account, signs in
//   GET  /interaction/:uid/new-password  imported with an unsalted hash: choose a new password
//   GET  /interaction/:uid/verify-email  the client requires a verified email: enter the mailed code
//   GET  /interaction/:uid/mfa        second factor: TOTP, recovery code or passkey
//   GET  /interaction/:uid/mfa-setup  MFA is required but none is enrolled: enrol TOTP now
//   POST /interaction/:uid/workspace  workspace picker (several workspaces, none active)
//   POST /interaction/:uid/confirm    consent
//   POST /interaction/:uid/abort      decline (access_denied to the app)
// An interaction that is gone (Back after signing in, another browser, expired) ends on a plain
// page with "Start again" (./dead-end.ts).
import Router from '@koa/router';
import type { Context } from 'koa';
import { createLoginHandlers } from './sign-in.ts';
import { createSignupHandlers } from './signup.ts';
import { createConsentHandlers } from './consent.ts';
import { createWorkspacePicker } from './workspace.ts';
import { loadInteraction, PROMPTS, withInteractionPage, type InteractionDeps } from './interaction-deps.ts';
import { requireCsrf } from '../security/csrf.ts';
import { formBody, jsonBody } from '../http/body.ts';
import { createSecondFactor } from './second-factor.ts';
import { createNewPasswordStep } from './new-password.ts';
import { MFA_REQUIRED_REASON } from '../oidc/policy.ts';
import { answerEndedSignIn } from './dead-end.ts';

export function createInteractionRouter(interactionDeps: InteractionDeps): Router {
  const deps = withInteractionPage(interactionDeps);
  const router = new Router({ prefix: '/interaction/:uid' });
  const secondFactor = createSecondFactor(deps);
  const newPassword = createNewPasswordStep(deps, secondFactor);
  const login = createLoginHandlers(deps, secondFactor, newPassword);
  const signup = createSignupHandlers(deps, secondFactor);
  const consent = createConsentHandlers(deps);
  const workspace = createWorkspacePicker(deps);
  const post = [formBody(), requireCsrf(new URL(deps.config.issuer).origin)];
  const postJson = [jsonBody(), requireCsrf(new URL(deps.config.issuer).origin)];

  router.use(async (ctx: Context, next) => {
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  // Back after signing in, the link in another browser, an expired sign-in: a plain page with a way on
  router.use(answerEndedSignIn(deps));

  router.get('/', async (ctx) => {
    const details = await loadInteraction(deps, ctx);
    if (details.prompt.name === PROMPTS.login) {
      // signed in already, but this request asks for more (acr_values=mfa): step up, no password again
      if (details.session?.accountId && details.prompt.reasons.includes(MFA_REQUIRED_REASON)) {
        return secondFactor.stepUp(ctx, details, details.session.accountId);
      }
      // idp=<name>: straight to that upstream provider (src/federation/); ?choose: "try another way" from there
      const upstream = ctx.query.choose === undefined ? await deps.upstream?.redirectFor(details) : undefined;
      if (upstream) { ctx.status = 303; return ctx.redirect(upstream); }
      return login.show(ctx, details);
    }
    if (details.prompt.name === PROMPTS.workspace) return workspace.show(ctx, details);
    if (details.prompt.name === PROMPTS.consent) return consent.show(ctx, details);
    ctx.throw(400, 'unsupported prompt');
  });
  router.post('/login', ...post, login.submit);
  router.get('/signup', signup.form);
  router.post('/signup', ...post, signup.submit);
  router.get('/verify', signup.verifyForm);
  router.post('/verify', ...post, signup.verify);
  router.get('/new-password', newPassword.form);
  router.post('/new-password', ...post, newPassword.submit);
  router.get('/verify-email', secondFactor.verifyEmailForm);
  router.post('/verify-email', ...post, secondFactor.verifyEmailSubmit);
  router.get('/mfa', secondFactor.mfaForm);
  router.post('/mfa', ...post, secondFactor.mfaSubmit);
  router.post('/mfa/passkey-options', ...postJson, secondFactor.passkeyOptions);
  router.post('/mfa/passkey', ...postJson, secondFactor.passkeySubmit);
  router.get('/mfa-setup', secondFactor.setupForm);
  router.post('/mfa-setup', ...post, secondFactor.setupSubmit);
  router.post('/mfa-setup/done', ...post, secondFactor.setupDone);
  router.post('/workspace', ...post, workspace.submit);
  router.post('/confirm', ...post, consent.confirm);
  router.post('/abort', ...post, consent.abort);
  return router;
}
