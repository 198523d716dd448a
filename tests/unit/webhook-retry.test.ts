// When a webhook is tried again: 2xx delivered; 5xx, 408, 409, 429 and no response retried on the
// schedule with jitter (Retry-After wins); other statuses final; the schedule used up is final.
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, MAX_RETRY_AFTER_MS, retryAfterMs, verdict } from '../../src/webhooks/retry.ts';

const schedule = DEFAULT_RETRY_SCHEDULE_SECONDS;
const mid = () => 0.5; // no jitter

describe('webhook retry verdicts', () => {
  it('delivers on 2xx', () => {
    for (const status of [200, 201, 202, 204]) expect(verdict(1, { status }, schedule, mid)).toEqual({ kind: 'delivered' });
  });

  it('retries timeouts, connection errors, 5xx, 408, 409 and 429 on the schedule', () => {
    for (const status of [undefined, 500, 502, 503, 504, 408, 409, 429]) {
      expect(verdict(1, { status }, schedule, mid)).toEqual({ kind: 'retry', afterMs: 5000 });
    }
    expect(verdict(4, { status: 500 }, schedule, mid)).toEqual({ kind: 'retry', afterMs: 7200_000 });
  });

  it('treats other statuses, redirects included, as final', () => {
    for (const status of [301, 302, 400, 401, 403, 404, 410, 422]) expect(verdict(1, { status }, schedule, mid).kind).toBe('failed');
  });

  it('gives up when the schedule is used up: about a day in all', () => {
    expect(verdict(schedule.length, { status: 500 }, schedule, mid).kind).toBe('retry');
    expect(verdict(schedule.length + 1, { status: 500 }, schedule, mid).kind).toBe('failed');
    const total = schedule.reduce((a, b) => a + b, 0) / 3600;
    expect(total).toBeGreaterThan(20);
    expect(total).toBeLessThan(30);
  });

  it('spreads waits by ±20 %', () => {
    expect(verdict(2, { status: 503 }, schedule, () => 0)).toEqual({ kind: 'retry', afterMs: 240_000 });
    expect(verdict(2, { status: 503 }, schedule, () => 1)).toEqual({ kind: 'retry', afterMs: 360_000 });
  });

  it('honours Retry-After in seconds or as a date, within a ceiling', () => {
    const now = Date.parse('2026-12-05T10:00:00Z');
    expect(verdict(1, { status: 429, retryAfter: '120' }, schedule, mid, now)).toEqual({ kind: 'retry', afterMs: 120_000 });
    expect(verdict(1, { status: 503, retryAfter: 'Sat, 05 Dec 2026 10:01:00 GMT' }, schedule, mid, now)).toEqual({ kind: 'retry', afterMs: 60_000 });
    expect(verdict(1, { status: 429, retryAfter: '999999999' }, schedule, mid, now)).toEqual({ kind: 'retry', afterMs: MAX_RETRY_AFTER_MS });
    expect(verdict(1, { status: 429, retryAfter: 'soon' }, schedule, mid, now)).toEqual({ kind: 'retry', afterMs: 5000 });
    expect(retryAfterMs('Sat, 05 Dec 2026 09:00:00 GMT', now)).toBe(0);
  });
});
