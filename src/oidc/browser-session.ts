// Who is signed in to the hosted pages outside the provider's own routes (the account switcher,
// the invitation page, the workspace API's session mode): the provider's session cookie, read with
// oidc-provider's documented `Session.get` ("How to display, on the website of the authorization
// server itself, if the user is signed-in or not").
import type { Context } from 'koa';
import type Provider from 'oidc-provider';

export async function signedInAccountId(provider: Provider, ctx: Context): Promise<string | undefined> {
  const session = await provider.Session.get(ctx);
  return session.accountId || undefined;
}
