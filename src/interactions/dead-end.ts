// A sign-in page whose interaction is gone: Back after signing in (the provider destroyed the
// interaction when it resumed the authorization), the link opened in another browser (no
// interaction cookie there), or a sign-in left open past its hour. oidc-provider answers those
// with SessionNotFound ("interaction session not found", "interaction session id cookie not
// found"); the person gets a page in plain words with "Start again" back to the app when the app
// is known, else "Go to your account" (src/http/error-page.ts).
//
// The app is known from the interaction while it exists (another browser), else from what
// `rememberReturn` kept when the interaction finished (Back after signing in).
import type { Context, Next } from 'koa';
import { isSessionNotFound, renderSignInEnded, startAgainUrl } from '../http/error-page.ts';
import type { Logger } from 'pino';
import type { AdapterFactory } from '../storage/short-lived-store.ts';
import type { Views } from '../render/views.ts';
import type { ProviderFacade } from '../oidc/facade.ts';

/** What these need of the interaction deps (not imported from there: that module imports this one). */
interface EndedDeps { adapters: AdapterFactory; log: Logger; views: Views; oidc: ProviderFacade }

/**
 * Back after a sign-in comes within minutes. Anyone can start a sign-in, so the record is kept two
 * hours (an interaction lives one), not longer; later, the page offers "Go to your account".
 */
const RETURN_TTL_SECONDS = 2 * 3600;
const RETURN_MODEL = 'InteractionReturn';
/** oidc-provider's interaction ids (nanoid), and nothing else, are looked up. */
const UID = /^[A-Za-z0-9_-]{1,64}$/;

interface InteractionState { interaction?: { uid: string; clientId?: string } }

/** Called when an interaction is loaded: what `rememberReturn` will keep. */
export function noteInteraction(ctx: Context, uid: string, clientId: unknown): void {
  (ctx.state as InteractionState).interaction = { uid, clientId: typeof clientId === 'string' ? clientId : undefined };
}

/** The interaction finished: keep which app it was for, so Back to its page can offer "Start again". */
export async function rememberReturn(deps: Pick<EndedDeps, 'adapters' | 'log'>, ctx: Context): Promise<void> {
  const noted = (ctx.state as InteractionState).interaction;
  if (!noted?.clientId) return;
  try {
    await deps.adapters(RETURN_MODEL).upsert(noted.uid, { clientId: noted.clientId }, RETURN_TTL_SECONDS);
  } catch (err) {
    // a convenience for a later Back: the sign-in itself must not fail for it
    deps.log.warn({ err }, 'could not remember the app of a finished sign-in');
  }
}

async function clientOf(deps: EndedDeps, uid: string): Promise<string | undefined> {
  const live = await deps.adapters('Interaction').find(uid);
  const fromLive = (live?.params as Record<string, unknown> | undefined)?.client_id;
  if (typeof fromLive === 'string') return fromLive;
  const kept = await deps.adapters(RETURN_MODEL).find(uid);
  return typeof kept?.clientId === 'string' ? kept.clientId : undefined;
}

/** Middleware of the interaction routes: a SessionNotFound becomes the plain "this sign-in has ended" page. */
export function answerEndedSignIn(deps: EndedDeps) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      if (!isSessionNotFound(err) || ctx.accepts('json', 'html') !== 'html') throw err;
      const uid = String(ctx.params?.uid ?? '');
      const clientId = UID.test(uid) ? await clientOf(deps, uid) : undefined;
      const metadata = clientId ? await deps.oidc.clientMetadata(clientId) : undefined;
      const name = typeof metadata?.client_name === 'string' && metadata.client_name ? metadata.client_name : undefined;
      renderSignInEnded(deps.views, ctx, { clientName: name, startAgain: startAgainUrl(metadata) });
    }
  };
}
