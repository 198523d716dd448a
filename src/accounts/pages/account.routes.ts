// Hosted account pages. The order is the map:
//   GET  /account/callback                  end of the first-party sign-in (a cancel: a calm page)
//   POST /account/sign-out                  → the provider's end_session (GET /session/end as the
//                                           account client), which returns to …
//   GET  /account/signed-out                "You are signed out" + "Sign in again"
//   GET  /account                           profile            POST /account/profile
//   GET  /account/email                     email              POST /account/email (recent sign-in)
//   GET  /account/email/confirm?token=…     confirm a new email by link; POST with the code
//   GET  /account/verify-email?token=…      verify by link;     POST with the code; POST …/resend
//   GET  /account/password                  change (or first set) the password    POST
//   GET  /account/security                  TOTP, passkeys, recovery codes (removal: recent sign-in)
//   GET  /account/sessions                  sessions; POST …/:uid/end, POST …/end-all
//   GET  /account/apps                      granted apps; POST …/:grantId/revoke
//   (GET /account/identities, linked upstream sign-ins: src/federation/identities.pages.ts)
//   GET  /account/forgot?interaction=&email= password reset (no session needed): POST mails a link;
//                                           the sign-in it came from is remembered in this browser
//   GET  /account/reset?token=…             the mailed link: the token moves into a cookie, then
//   GET  /account/reset                     the new-password form; POST /account/reset
//   (the token is never in a path: request logs record paths)
import Router from '@koa/router';
import { formBody, jsonBody } from '../../http/body.ts';
import { requireCsrf } from '../../security/csrf.ts';
import { guard } from '../../http/guard.ts';
import { createAccountPageRenderer, type AccountDeps } from './page-deps.ts';
import { accountForms as forms } from './account-forms.ts';
import { createProfileHandlers } from './profile.pages.ts';
import { createCredentialHandlers } from './credentials.pages.ts';
import { createRecoveryHandlers } from './password-reset.pages.ts';
import { createSecurityHandlers } from './security.pages.ts';
import { createSessionHandlers } from './sessions.pages.ts';
import { createSignOutHandlers } from './sign-out.pages.ts';

export function createAccountRouter(accountDeps: AccountDeps): Router {
  const router = new Router({ prefix: '/account' });
  const deps = { ...accountDeps, page: createAccountPageRenderer(accountDeps) };
  const csrf = requireCsrf(new URL(deps.config.issuer).origin);
  const form = [formBody(), csrf];
  const json = [jsonBody(), csrf];
  const signedIn = deps.session.required();
  const recent = deps.session.required({ recent: true });
  const owner = deps.session.required({ owner: true }); // adds a credential: never in a support session
  const profile = createProfileHandlers(deps);
  const creds = createCredentialHandlers(deps);
  const recovery = createRecoveryHandlers(deps);
  const security = createSecurityHandlers(deps);
  const sessions = createSessionHandlers(deps);
  const signOut = createSignOutHandlers(deps);

  router.get('/callback', async (ctx) => {
    const outcome = await deps.session.callback(ctx);
    if (outcome) signOut.signInOutcome(ctx, outcome);
  });
  router.post('/sign-out', ...form, (ctx) => signOut.start(ctx));
  router.get('/signed-out', (ctx) => signOut.done(ctx));

  router.get('/', signedIn, (ctx) => profile.show(ctx));
  router.post('/profile', ...form, signedIn, guard(forms.profile), (ctx) => profile.save(ctx));

  router.get('/email', recent, (ctx) => creds.emailForm(ctx));
  router.post('/email', ...form, recent, guard(forms.email), (ctx) => creds.requestEmailChange(ctx));
  router.get('/email/confirm', guard(forms.link), (ctx) => creds.confirmEmailChange(ctx));
  router.post('/email/confirm', ...form, owner, guard(forms.code), (ctx) => creds.confirmEmailChange(ctx));
  router.get('/verify-email', guard(forms.link), (ctx) => creds.verifyEmail(ctx));
  router.post('/verify-email', ...form, signedIn, guard(forms.code), (ctx) => creds.verifyEmail(ctx));
  router.post('/verify-email/resend', ...form, signedIn, (ctx) => creds.resendVerification(ctx));

  router.get('/password', owner, (ctx) => creds.passwordForm(ctx));
  router.post('/password', ...form, owner, guard(forms.password), (ctx) => creds.changePassword(ctx));

  router.get('/security', signedIn, security.show);
  router.post('/security/totp', ...form, owner, security.totpBegin);
  router.post('/security/totp/confirm', ...form, owner, guard(forms.code), security.totpConfirm);
  router.post('/security/totp/remove', ...form, recent, security.totpRemove);
  router.post('/security/recovery-codes', ...form, recent, security.recoveryRegenerate);
  router.post('/security/passkeys/options', ...json, owner, security.passkeyOptions);
  router.post('/security/passkeys', ...json, owner, guard(forms.passkey), security.passkeyRegister);
  router.post('/security/passkeys/:id/remove', ...form, recent, guard(forms.passkeyId), security.passkeyRemove);

  router.get('/sessions', signedIn, sessions.list);
  router.post('/sessions/end-all', ...form, signedIn, sessions.endAll);
  router.post('/sessions/:uid/end', ...form, signedIn, guard(forms.sessionUid), sessions.end);
  router.get('/apps', signedIn, sessions.apps);
  router.post('/apps/:grantId/revoke', ...form, signedIn, guard(forms.grantId), sessions.revokeApp);

  router.get('/forgot', guard(forms.forgotLink), (ctx) => recovery.forgotForm(ctx));
  router.post('/forgot', ...form, guard(forms.forgot), (ctx) => recovery.forgot(ctx));
  router.get('/reset', (ctx) => recovery.landing(ctx));
  router.post('/reset', ...form, guard(forms.reset), (ctx) => recovery.reset(ctx));
  router.get('/reset/:token', (ctx) => recovery.landing(ctx)); // links mailed before the token left the path
  return router;
}
