// The browser side of a sign-in, as a relying party's user would go through it: authorize →
// sign-in → consent → code → token. Gatehouse's hosted pages take an email, a password and a CSRF
// token; the bare library's development interactions take any login and no password.
import { createHash, randomBytes } from 'node:crypto';
import { Agent, formAction } from '../harness/http-agent.ts';

export interface SignInTarget {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** 'gatehouse': hosted pages with email and password; 'bare': oidc-provider's devInteractions */
  pages: 'gatehouse' | 'bare';
  email: string;
  password: string;
}

export interface Tokens { access_token: string; refresh_token: string; id_token: string }

const SCOPE = 'openid profile email offline_access';

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function signInFlow(t: SignInTarget): Promise<Tokens> {
  const agent = new Agent();
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL('/auth', t.issuer);
  url.search = new URLSearchParams({
    client_id: t.clientId, redirect_uri: t.redirectUri, response_type: 'code', scope: SCOPE, prompt: 'consent',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'), nonce: randomBytes(8).toString('hex'),
  }).toString();

  let page = await agent.go(url.toString(), {}, t.redirectUri);
  if (t.pages === 'gatehouse') {
    page = await agent.submit(page, formAction(page.html, '/login'), { email: t.email, password: t.password }, t.redirectUri);
    page = await agent.submit(page, formAction(page.html, '/confirm'), {}, t.redirectUri);
  } else {
    const form = (fields: Record<string, string>) => ({
      method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    page = await agent.go(page.url, form({ prompt: 'login', login: t.email }), t.redirectUri);
    page = await agent.go(page.url, form({ prompt: 'consent' }), t.redirectUri);
  }
  const code = new URL(page.url).searchParams.get('code');
  if (!page.url.startsWith(t.redirectUri) || !code) throw new Error(`sign-in did not reach the redirect URI (${page.status} ${page.url})`);

  const res = await fetch(new URL('/token', t.issuer), {
    method: 'POST',
    headers: { authorization: basicAuth(t.clientId, t.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: t.redirectUri, code_verifier: verifier }),
  });
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${await res.text()}`);
  return await res.json() as Tokens;
}
