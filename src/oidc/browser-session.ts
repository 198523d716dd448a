// Who is signed in to the hosted pages outside the provider's own routes (the account pages, the
// account switcher, the invitation page, the workspace API's session mode): the provider's session
// cookie, read with oidc-provider's documented `Session.get` ("How to display, on the website of
// the authorization server itself, if the user is signed-in or not"), in our own type.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { sessionAmr } from './internals.ts';

/** A browser's sign-in session at the provider. */
export interface BrowserSession {
  uid: string;
  /** empty when the browser is not signed in */
  accountId?: string;
  /** when the account last signed in (seconds) */
  loginTs: number;
  amr: string[];
  destroy(): Promise<void>;
}

type ProviderSession = InstanceType<Provider['Session']>;

function ours(session: ProviderSession): BrowserSession {
  return {
    uid: session.uid,
    accountId: session.accountId || undefined,
    loginTs: session.loginTs ?? 0,
    amr: sessionAmr(session),
    destroy: () => session.destroy(),
  };
}

/** The session of this request's browser (a fresh, empty one when it has none). */
export async function browserSession(provider: Provider, ctx: Context): Promise<BrowserSession> {
  return ours(await provider.Session.get(ctx));
}

/** A session by its uid (the sessions pages, the admin API), or undefined. */
export async function sessionByUid(provider: Provider, uid: string): Promise<BrowserSession | undefined> {
  const session = await provider.Session.findByUid(uid);
  return session ? ours(session) : undefined;
}

export async function signedInAccountId(provider: Provider, ctx: Context): Promise<string | undefined> {
  return (await browserSession(provider, ctx)).accountId;
}
