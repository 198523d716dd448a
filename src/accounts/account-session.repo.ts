// account_sessions: the provider's browser sessions as people see them (device, IP, first and last
// seen, ended), written by the session-tracking listener (src/oidc/session-tracking.ts, through
// the SessionLog port) and read by the sessions page, the admin API and the console.
import type { Knex } from 'knex';
import type { Queryable } from '../storage/transactions.ts';
import type { SessionLog } from '../oidc/ports.ts';

export interface AccountSessionRow {
  uid: string;
  user_id: string;
  ip: string | null;
  user_agent: string | null;
  amr: string[];
  created_at: Date;
  last_seen_at: Date;
  ended_at: Date | null;
}

export function createAccountSessionRepo(knex: Knex) {
  return {
    /** A session saved by the provider: new, or seen again (its device, IP and account follow the latest save). */
    async saved(row: Pick<AccountSessionRow, 'uid' | 'user_id' | 'ip' | 'user_agent' | 'amr' | 'last_seen_at'>, db: Queryable = knex): Promise<void> {
      await db('account_sessions').insert(row).onConflict('uid').merge(['ip', 'user_agent', 'amr', 'last_seen_at', 'user_id']);
    },
    /** The account's sessions not yet ended, most recently seen first. */
    open(userId: string, opts: { limit?: number } = {}, db: Queryable = knex): Promise<AccountSessionRow[]> {
      const q = db<AccountSessionRow>('account_sessions').where({ user_id: userId }).whereNull('ended_at').orderBy('last_seen_at', 'desc');
      return opts.limit === undefined ? q : q.limit(opts.limit);
    },
    /** Marks one session ended (only the account's own, when `userId` is given). */
    async end(uid: string, opts: { userId?: string } = {}, db: Queryable = knex): Promise<void> {
      const q = db('account_sessions').where({ uid }).whereNull('ended_at');
      if (opts.userId !== undefined) q.where({ user_id: opts.userId });
      await q.update({ ended_at: db.fn.now() });
    },
    /** Marks every open session of the account ended. */
    async endAll(userId: string, db: Queryable = knex): Promise<void> {
      await db('account_sessions').where({ user_id: userId }).whereNull('ended_at').update({ ended_at: db.fn.now() });
    },
  };
}
export type AccountSessionRepo = ReturnType<typeof createAccountSessionRepo>;

/** The repository as the provider's session-tracking listener sees it (src/oidc/ports.ts). */
export function sessionLogFor(repo: AccountSessionRepo): SessionLog {
  return {
    saved: (s) => repo.saved({ uid: s.uid, user_id: s.accountId, ip: s.ip, user_agent: s.userAgent, amr: s.amr, last_seen_at: s.at }),
    ended: (uid) => repo.end(uid),
  };
}
