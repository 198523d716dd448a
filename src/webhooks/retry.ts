// When to try a webhook again. Retried: timeouts, connection errors, 5xx, 408, 409 and 429; any
// other 4xx is final (the receiver says the request itself is wrong: trying again cannot help).
// The waits follow a schedule with ±JITTER so that many messages failed together do not return
// together; a Retry-After from the receiver wins over the schedule (capped at MAX_RETRY_AFTER_MS).
// When the schedule is used up, the message has failed for good.

/**
 * The default waits before attempts 2…8, in seconds: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h —
 * about 27.6 hours in all, "about a day", the ladder Standard Webhooks senders commonly use.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 36000];
/** ±20 % of each wait, uniformly. */
const JITTER = 0.2;

const RETRIED_4XX = new Set([408, 409, 429]);
/** A receiver may ask for at most this long a pause (Retry-After); longer asks wait this long. */
export const MAX_RETRY_AFTER_MS = 10 * 3600_000;

export type Verdict = { kind: 'delivered' } | { kind: 'retry'; afterMs: number } | { kind: 'failed'; reason: string };

/** Seconds (or an HTTP date) in a Retry-After header, as milliseconds from `now`; undefined if unreadable. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function isRetryableStatus(status: number): boolean {
  return status >= 500 || RETRIED_4XX.has(status);
}

/**
 * What to do after attempt number `attempt` (1 for the first) ended with `status` (undefined: no
 * response at all: timeout, refused connection, DNS). `random` is Math.random, injectable for tests.
 */
export function verdict(attempt: number, outcome: { status?: number; retryAfter?: string }, schedule: readonly number[], random: () => number = Math.random, now = Date.now()): Verdict {
  const { status } = outcome;
  if (status !== undefined && status >= 200 && status < 300) return { kind: 'delivered' };
  if (status !== undefined && !isRetryableStatus(status)) return { kind: 'failed', reason: `the receiver answered ${status}` };
  const step = schedule[attempt - 1];
  if (step === undefined) return { kind: 'failed', reason: `no success after ${attempt} attempts` };
  const asked = retryAfterMs(outcome.retryAfter, now);
  if (asked !== undefined) return { kind: 'retry', afterMs: Math.min(asked, MAX_RETRY_AFTER_MS) };
  const jittered = step * 1000 * (1 + JITTER * (2 * random() - 1));
  return { kind: 'retry', afterMs: Math.round(jittered) };
}
