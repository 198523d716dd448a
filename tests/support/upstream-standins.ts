// Local upstream providers for the federation tests, in the test's own process:
// - a bare oidc-provider instance (code we did not write), configurable as a plain OpenID
//   provider, as Google would be (an `hd` claim, prompt=select_account accepted) or as a Microsoft
//   Entra tenant would be (issuer `…/<tenant id>/v2.0`, a `tid` claim);
// - a GitHub stand-in that speaks GitHub's documented OAuth app API: /login/oauth/authorize,
//   /login/oauth/access_token (with PKCE), GET /user and GET /user/emails.
// Both sign the "next" user in at once (no login page of their own): the test sets who that is.
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface NextSignIn { accountId: string; amr?: string[]; acr?: string; deny?: boolean }

export interface BareOidc {
  /** the issuer as discovery names it (with the path prefix, e.g. /<tenant>/v2.0) */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** who the next authorization request signs in as (and with which amr), or a refusal */
  next: NextSignIn;
  /** the query of every authorization request it received */
  authorizeQueries: URLSearchParams[];
  /** the account's claims by id (email, email_verified, name, hd, tid, …) */
  accounts: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const closeServer = (server: Server) => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });

/** A bare oidc-provider at `http://127.0.0.1:<port><path>` whose client may use `callbacks`. */
export async function startBareOidcProvider(opts: { path?: string; callbacks: () => string[]; postLogoutRedirects?: () => string[] }): Promise<BareOidc> {
  const path = opts.path ?? '';
  const server = createServer();
  const origin = await listen(server);
  const issuer = `${origin}${path}`;
  const clientId = `bare-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const accounts = new Map<string, Record<string, unknown>>();
  const authorizeQueries: URLSearchParams[] = [];
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: opts.callbacks(), post_logout_redirect_uris: opts.postLogoutRedirects?.() ?? [], grant_types: ['authorization_code'], response_types: ['code'] }],
    async findAccount(_ctx, id) {
      const claims = accounts.get(id);
      return claims ? { accountId: id, claims: async () => ({ sub: id, ...claims }) } : undefined;
    },
    claims: { openid: ['sub', 'hd', 'tid', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'picture', 'locale'] },
    conformIdTokenClaims: false,
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    jwks: { keys: [{ ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), kid: 'k1', alg: 'RS256', use: 'sig' } as never] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    pkce: { required: () => true },
  });
  const state: BareOidc = {
    issuer, clientId, clientSecret, accounts, authorizeQueries,
    next: { accountId: '' },
    close: () => closeServer(server),
  };
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      if (url.pathname.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(req, res);
        const next = state.next;
        if (next.deny) return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user said no' });
        if (details.prompt.name === 'login') {
          return provider.interactionFinished(req, res, { login: { accountId: next.accountId, amr: next.amr ?? ['pwd'], acr: next.acr } }, { mergeWithLastSubmission: false });
        }
        const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      }
      if (url.pathname === `${path}/auth`) {
        authorizeQueries.push(new URLSearchParams(url.searchParams));
        // Google's prompt=select_account: nothing to choose here (oidc-provider does not know the value)
        if (url.searchParams.get('prompt') === 'select_account') url.searchParams.delete('prompt');
      }
      req.url = (path && url.pathname.startsWith(path) ? url.pathname.slice(path.length) : url.pathname) + url.search;
      callback(req, res);
    })().catch((err) => { res.statusCode = 500; res.end(String(err)); });
  });
  return state;
}

export interface GitHubUser { id: number; login: string; name?: string; emails: Array<{ email: string; primary: boolean; verified: boolean }> }

export interface GitHubStandIn {
  origin: string;
  clientId: string;
  clientSecret: string;
  /** the registry's endpoints setting for a provider of kind github */
  endpoints: { authorization_endpoint: string; token_endpoint: string; userinfo_endpoint: string; emails_endpoint: string };
  users: Map<string, GitHubUser>;
  /** the login of who authorizes next */
  next: string;
  close(): Promise<void>;
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** GitHub's OAuth app API as documented (docs.github.com: authorizing OAuth apps; REST users and emails). */
export async function startGitHubStandIn(): Promise<GitHubStandIn> {
  const server = createServer();
  const origin = await listen(server);
  const clientId = `Iv1.${randomBytes(8).toString('hex')}`;
  const clientSecret = randomBytes(20).toString('hex');
  const codes = new Map<string, { login: string; redirectUri: string; challenge: string }>();
  const tokens = new Map<string, string>();
  const state: GitHubStandIn = {
    origin, clientId, clientSecret, users: new Map(), next: '',
    endpoints: {
      authorization_endpoint: `${origin}/login/oauth/authorize`, token_endpoint: `${origin}/login/oauth/access_token`,
      userinfo_endpoint: `${origin}/user`, emails_endpoint: `${origin}/user/emails`,
    },
    close: () => closeServer(server),
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  };
  const userOf = (req: IncomingMessage) => {
    const token = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const login = token ? tokens.get(token) : undefined;
    return login ? state.users.get(login) : undefined;
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', origin);
      if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
        const q = url.searchParams;
        if (q.get('client_id') !== clientId || !q.get('redirect_uri')) return json(res, 400, { error: 'redirect_uri_mismatch' });
        const back = new URL(q.get('redirect_uri')!);
        const code = randomBytes(10).toString('hex');
        codes.set(code, { login: state.next, redirectUri: q.get('redirect_uri')!, challenge: q.get('code_challenge') ?? '' });
        back.searchParams.set('code', code);
        if (q.get('state')) back.searchParams.set('state', q.get('state')!);
        res.writeHead(302, { location: back.href }).end();
        return;
      }
      if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
        const form = await formOf(req);
        const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
        const [id, secret] = basic
          ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent)
          : [form.get('client_id'), form.get('client_secret')];
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const pkceOk = !grant?.challenge || createHash('sha256').update(verifier).digest('base64url') === grant.challenge;
        // GitHub answers token errors with 200 and an error body
        if (id !== clientId || secret !== clientSecret) return json(res, 200, { error: 'incorrect_client_credentials' });
        if (!grant || grant.redirectUri !== form.get('redirect_uri') || !pkceOk) return json(res, 200, { error: 'bad_verification_code' });
        const token = `gho_${randomBytes(18).toString('hex')}`;
        tokens.set(token, grant.login);
        return json(res, 200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
      }
      if (req.method === 'GET' && (url.pathname === '/user' || url.pathname === '/user/emails')) {
        const user = userOf(req);
        if (!user) return json(res, 401, { message: 'Bad credentials' });
        if (url.pathname === '/user') return json(res, 200, { id: user.id, login: user.login, name: user.name ?? null, avatar_url: `https://avatars.example.test/u/${user.id}` });
        return json(res, 200, user.emails.map((e) => ({ ...e, visibility: e.primary ? 'private' : null })));
      }
      json(res, 404, { message: 'Not Found' });
    })().catch((err) => { res.statusCode = 500; res.end(String(err)); });
  });
  return state;
}
