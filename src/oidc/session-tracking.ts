// Keeps the sessions page's record (account_sessions, through the SessionLog port) in step with
// the provider's sessions: which device (user agent) and IP, when created, when last seen, when
// ended. A failure to record is logged, never the sign-in's failure.
import Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { SessionLog } from './ports.ts';
import { outsideProviderRequest } from './support-session.ts';

export function trackSessions(provider: Provider, sessions: SessionLog, log: Logger): Provider {
  provider.on('session.saved', (session: { uid?: string; accountId?: string; amr?: string[] }) => {
    if (!session.uid || !session.accountId) return;
    const ctx = Provider.ctx ?? outsideProviderRequest.getStore(); // a support session is opened outside its routes
    sessions.saved({
      uid: session.uid, accountId: session.accountId, ip: ctx?.ip ?? null,
      userAgent: ctx?.get('user-agent')?.slice(0, 512) || null, amr: session.amr ?? [], at: new Date(),
    }).catch((err) => log.warn({ err: (err as Error).message }, 'could not record the session'));
  });
  provider.on('session.destroyed', (session: { uid?: string }) => {
    if (!session.uid) return;
    sessions.ended(session.uid)
      .catch((err) => log.warn({ err: (err as Error).message }, 'could not record the session end'));
  });
  return provider;
}
