// A minimal browser: a cookie jar, manual redirects, and the hosted forms' hidden fields. Shared by
// the protocol tests (tests/) and the benchmarks (bench/), which import it from here so that bench/
// never imports tests/. It imports nothing of Gatehouse's: it drives the server from outside.
// (tests/e2e/pages.test.ts drives the same pages in real Chromium.)
import * as oidc from 'openid-client';

export interface Page { status: number; url: string; html: string; headers: Headers }

export class Agent {
  readonly cookies = new Map<string, string>();

  private store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i); const value = pair!.slice(i + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name); else this.cookies.set(name, value);
    }
  }

  private header(): string { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: this.header() } });
    this.store(res);
    return res;
  }

  /** Follows redirects until a page, or until a URL starting with `stopAt` (returned unfetched). */
  async go(url: string, init: RequestInit = {}, stopAt?: string): Promise<Page> {
    let res = await this.request(url, init);
    let current = url;
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 10; hops++) {
      current = new URL(res.headers.get('location')!, current).toString();
      if (stopAt && current.startsWith(stopAt)) return { status: res.status, url: current, html: '', headers: res.headers };
      res = await this.request(current);
    }
    return { status: res.status, url: current, html: await res.text(), headers: res.headers };
  }

  async submit(page: Page, action: string, fields: Record<string, string>, stopAt?: string): Promise<Page> {
    const form = new URLSearchParams({ _csrf: csrfOf(page.html), ...fields });
    return this.go(new URL(action, page.url).toString(), {
      method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }, stopAt);
  }
}

export function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}

export function formAction(html: string, contains: string): string {
  const m = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((x) => x[1]!).find((a) => a.includes(contains));
  if (!m) throw new Error(`no form posting to *${contains}* in:\n${html.slice(0, 2000)}`);
  return m.replaceAll('&#x2F;', '/').replaceAll('&amp;', '&');
}

export interface RpOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
}

export async function discover(o: RpOptions): Promise<oidc.Configuration> {
  const auth = o.clientSecret ? oidc.ClientSecretBasic(o.clientSecret) : oidc.None();
  return oidc.discovery(new URL(o.issuer), o.clientId, o.clientSecret ? undefined : { token_endpoint_auth_method: 'none' }, auth, {
    execute: [oidc.allowInsecureRequests],
  });
}

export interface SignInResult {
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  callback: URL;
  agent: Agent;
}

/** Runs authorize → sign-in → consent → code → token as a relying party would. */
export async function signIn(config: oidc.Configuration, o: RpOptions & {
  email: string; password: string; scope?: string; agent?: Agent; extra?: Record<string, string>; expectConsent?: boolean;
  /** the workspace (id) to choose if the workspace picker appears */
  pickWorkspace?: string;
}): Promise<SignInResult> {
  const agent = o.agent ?? new Agent();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: o.redirectUri, scope: o.scope ?? 'openid profile email offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce,
    ...(o.scope?.includes('offline_access') !== false ? { prompt: 'consent' } : {}), ...o.extra,
  });
  let page = await agent.go(url.toString(), {}, o.redirectUri);
  if (page.html.includes('autocomplete="current-password"')) {
    page = await agent.submit(page, formAction(page.html, '/login'), { email: o.email, password: o.password }, o.redirectUri);
  }
  if (o.pickWorkspace && page.html.includes('name="workspace_id"')) {
    page = await agent.submit(page, formAction(page.html, '/workspace'), { workspace_id: o.pickWorkspace }, o.redirectUri);
  }
  if (page.html.includes('/confirm')) {
    page = await agent.submit(page, formAction(page.html, '/confirm'), {}, o.redirectUri);
  }
  if (!page.url.startsWith(o.redirectUri)) throw new Error(`did not reach the redirect URI: ${page.status} ${page.url}\n${page.html.slice(0, 1500)}`);
  const callback = new URL(page.url);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
  return { tokens, callback, agent };
}
