// gatehouse login: the device flow (RFC 8628) with openid-client. Prints the page and the code,
// draws a QR code of the page with the code filled in, offers to open the browser, polls with a
// spinner showing the time left, and saves the tokens for the profile.
import * as oidc from 'openid-client';
import QRCode from 'qrcode';
import { CliError } from '../errors.ts';
import { connect, explain, oauthError } from './issuer.ts';
import { credentialsFrom } from './session.ts';
import { credentialsPath, readProfile, saveProfile, withLock } from './credential-store.ts';
import { isInteractive, minutesAndSeconds, onKeys, openBrowser, startSpinner, type Spinner } from './terminal.ts';

export const DEFAULT_SCOPE = 'openid profile email offline_access';
/** Poll a little past the code's lifetime, so the issuer's expired_token is what ends the wait. */
const EXPIRY_GRACE_SECONDS = 10;
const EXIT_INTERRUPTED = 130; // 128 + SIGINT, as shells report it

export interface LoginOptions {
  issuer?: string;
  clientId?: string;
  scope: string;
  workspace?: string;
  profile: string;
  browser: boolean;
  qr: boolean;
}

const out = (line = '') => process.stdout.write(`${line}\n`);

async function start(config: oidc.Configuration, o: LoginOptions, issuer: string, clientId: string) {
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new CliError(`${issuer} does not offer the device flow (RFC 8628): check --issuer.`);
  }
  try {
    return await oidc.initiateDeviceAuthorization(config, { scope: o.scope, ...(o.workspace ? { workspace: o.workspace } : {}) });
  } catch (e) {
    // the issuer says so when the client exists but has a secret (src/oidc/device-client-hint.ts)
    if (oauthError(e) === 'invalid_client' && /confidential/i.test((e as oidc.ResponseBodyError).error_description ?? '')) {
      throw new CliError(`The client "${clientId}" is confidential (it has a secret, for a server); a terminal needs a public client: use a public client (gatehouse clients create --public --grant-types device_code,refresh_token), then gatehouse login --client-id <its id>.`);
    }
    throw explain(e, issuer, {
      invalid_client: `The issuer does not know the client ID "${clientId}": check --client-id, or ask an operator for one (gatehouse clients create --public --grant-types device_code,refresh_token).`,
      unauthorized_client: `The client "${clientId}" may not use the device flow: an operator can allow it with --grant-types device_code,refresh_token.`,
      invalid_scope: `The issuer refused the scope "${o.scope}": ask only for scopes the client may use (see --scope).`,
      invalid_request: 'The issuer refused the sign-in request: check --scope and --workspace.',
    });
  }
}

async function instructions(auth: oidc.DeviceAuthorizationResponse, qr: boolean): Promise<void> {
  out('To sign in, open this page in a browser on any device:');
  out();
  out(`    ${auth.verification_uri}`);
  out();
  out(`and enter the code:  ${auth.user_code}`);
  out();
  const complete = auth.verification_uri_complete;
  if (complete) {
    if (qr && process.stdout.isTTY) { // a QR code is for eyes: not into pipes and logs
      out('Or scan this QR code with a phone (it opens the page with the code filled in):');
      const code = await QRCode.toString(complete, { type: 'terminal', small: true });
      out(`${code.replace(/(\s|\x1b\[[0-9;]*m)+$/, '')}\x1b[0m`); // without its blank last row; colours reset
      out();
    }
    out(`Or open ${complete}`);
    out();
  }
}

/** Polls until the user approves, denies or lets the code expire; a spinner and keys on a terminal. */
async function waitForApproval(config: oidc.Configuration, auth: oidc.DeviceAuthorizationResponse, o: LoginOptions, issuer: string) {
  const expiresAt = Date.now() + auth.expires_in * 1000;
  const cancel = new AbortController();
  const signal = AbortSignal.any([cancel.signal, AbortSignal.timeout((auth.expires_in + EXPIRY_GRACE_SECONDS) * 1000)]);
  const minutes = Math.max(1, Math.round(auth.expires_in / 60));
  let spinner: Spinner | undefined;
  let stopKeys: (() => void) | undefined;
  // Ctrl-C ends the wait at once (openid-client looks at its abort signal only between polls)
  let interrupt!: () => void;
  const interrupted = new Promise<never>((_, reject) => {
    interrupt = () => { cancel.abort(); reject(new CliError('Cancelled: nothing was saved.', EXIT_INTERRUPTED)); };
  });
  process.once('SIGINT', interrupt);

  if (isInteractive()) {
    const url = auth.verification_uri_complete ?? auth.verification_uri;
    let browser: 'offer' | 'opened' | 'failed' | 'off' = o.browser ? 'offer' : 'off';
    const suffix = { offer: ' · press Enter to open the browser', opened: ' · opened the browser', failed: ' · no browser found: open the page yourself', off: '' };
    spinner = startSpinner(() => `Waiting for approval… ${minutesAndSeconds((expiresAt - Date.now()) / 1000)} left${suffix[browser]}`);
    stopKeys = onKeys({
      interrupt,
      enter: () => {
        if (browser !== 'offer') return;
        browser = 'opened';
        openBrowser(url, () => { browser = 'failed'; });
      },
    });
  } else {
    out(`Waiting for approval (the code expires in ${minutes} minute${minutes === 1 ? '' : 's'})…`);
  }

  try {
    const polling = oidc.pollDeviceAuthorizationGrant(config, auth, undefined, { signal });
    polling.catch(() => { /* answered below, or superseded by Ctrl-C */ });
    return await Promise.race([polling, interrupted]);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as { code?: string }).code;
    const expired = `The code expired before it was approved: run gatehouse login again and approve it within ${minutes} minute${minutes === 1 ? '' : 's'}.`;
    if (code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT') throw new CliError(expired);
    throw explain(e, issuer, {
      access_denied: 'The sign-in was denied in the browser: run gatehouse login again if that was a mistake.',
      expired_token: expired,
      invalid_grant: 'The sign-in request is no longer valid: run gatehouse login again.',
    });
  } finally {
    spinner?.stop();
    stopKeys?.();
    process.off('SIGINT', interrupt);
  }
}

export async function login(o: LoginOptions): Promise<void> {
  const previous = readProfile(o.profile);
  const issuer = o.issuer ?? previous?.issuer;
  const clientId = o.clientId ?? (o.issuer === undefined || o.issuer === previous?.issuer ? previous?.client_id : undefined);
  if (!issuer || !clientId) {
    throw new CliError('Say where to sign in: gatehouse login --issuer URL --client-id ID (your administrator has both).', 2);
  }
  const config = await connect(issuer, clientId);
  const auth = await start(config, o, issuer, clientId);
  await instructions(auth, o.qr);
  const tokens = await waitForApproval(config, auth, o, issuer);

  const credentials = credentialsFrom(config, tokens);
  await withLock(async () => saveProfile(o.profile, credentials));
  const claims = tokens.claims();
  const who = typeof claims?.email === 'string' ? claims.email : claims?.sub;
  const workspace = typeof claims?.workspace_slug === 'string' ? ` in workspace ${claims.workspace_slug}` : '';
  out(`✓ Signed in to ${credentials.issuer}${who ? ` as ${who}` : ''}${workspace}.`);
  out(`  Credentials saved in ${credentialsPath()} (profile "${o.profile}").`);
  if (!credentials.refresh_token) out('  No refresh token was issued (ask for offline_access): run gatehouse login again when the access token expires.');
}
