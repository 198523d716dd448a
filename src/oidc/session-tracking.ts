// Keeps account_sessions in step with the provider's sessions, for the "sessions" page: which
// device (user agent) and IP, when created, when last seen, when ended.
import Provider from 'oidc-provider';
import type { Knex } from 'knex';
import type { Logger } from 'pino';

export function trackSessions(provider: Provider, knex: Knex, log: Logger): Provider {
  provider.on('session.saved', (session: { uid?: string; accountId?: string; amr?: string[] }) => {
    if (!session.uid || !session.accountId) return;
    const ctx = Provider.ctx;
    const row = {
      uid: session.uid, user_id: session.accountId, ip: ctx?.ip ?? null,
      user_agent: ctx?.get('user-agent')?.slice(0, 512) || null, amr: session.amr ?? [], last_seen_at: new Date(),
    };
    knex('account_sessions').insert(row).onConflict('uid').merge(['ip', 'user_agent', 'amr', 'last_seen_at', 'user_id'])
      .catch((err) => log.warn({ err: (err as Error).message }, 'could not record the session'));
  });
  provider.on('session.destroyed', (session: { uid?: string }) => {
    if (!session.uid) return;
    knex('account_sessions').where({ uid: session.uid }).whereNull('ended_at').update({ ended_at: new Date() })
      .catch((err) => log.warn({ err: (err as Error).message }, 'could not record the session end'));
  });
  return provider;
}
