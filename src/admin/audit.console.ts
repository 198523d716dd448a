// The console's audit log, mounted on the admin console's router behind its gate
// (src/admin/console.pages.ts):   GET /admin/audit?type=&user=&client=&from=&to=&page=
// People and apps by name (emails, client names: joined in the same query as the page), filters
// chosen from lists (the event types the log holds, the registered clients), a user by email, a
// date range (whole UTC days), and pages.
import type Router from '@koa/router';
import { z } from 'zod';
import { guard, guarded } from '../http/guard.ts';
import type { PageRenderer } from '../http/page.ts';
import type { AuditRepo } from '../audit/audit.repo.ts';
import type { ClientService } from '../clients/client.service.ts';
import { isPlausibleEmail, normalizeEmail } from '../accounts/email.ts';

const PAGE_SIZE = 25;
/** Past any real page; a larger number is someone typing, not paging. */
const MAX_PAGE = 100_000;
const DAY_MS = 24 * 60 * 60 * 1000;

// lenient, as a person types them into a URL: a bad page number is the first page, an empty filter none
const pageNo = z.preprocess((v) => Math.max(1, Math.min(MAX_PAGE, Number.parseInt(String(v ?? '1'), 10) || 1)), z.number());
const text = (max: number) => z.preprocess((v) => (typeof v === 'string' ? v.trim() : ''), z.string().max(max, `Use at most ${max} characters.`));
const day = z.preprocess((v) => (typeof v === 'string' ? v.trim() : ''),
  z.union([z.literal(''), z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Use a date like 2026-12-31.').refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'Use a date like 2026-12-31.')]));
const auditQuery = z.object({
  type: text(100), user: text(320).refine((v) => !v || isPlausibleEmail(v), 'Enter the user\'s email address, like ada@example.com.'), client: text(200), from: day, to: day, page: pageNo });
type AuditQuery = z.output<typeof auditQuery>;

/** The query string of these filters (for the pager and the "clear" state), empty ones left out. */
const queryOf = (f: Omit<AuditQuery, 'page'>) =>
  (['type', 'user', 'client', 'from', 'to'] as const).filter((k) => f[k]).map((k) => `${k}=${encodeURIComponent(f[k])}&`).join('');

export interface AuditConsoleDeps {
  auditLog: Pick<AuditRepo, 'searchNamed' | 'types'>;
  clients: Pick<ClientService, 'list'>;
  render: PageRenderer;
}

export function addAuditConsole(router: Router, deps: AuditConsoleDeps): void {
  // a filter that cannot be read (a date typed by hand) is shown on its field, not a bare 400
  router.get('/audit', async (ctx, next) => {
    const parsed = auditQuery.safeParse(ctx.query);
    if (parsed.success) return next();
    const errors: Record<string, string> = {};
    for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
    const raw = (k: string) => (typeof ctx.query[k] === 'string' ? (ctx.query[k] as string).slice(0, 400) : '');
    const filter = { type: raw('type'), user: raw('user'), client: raw('client'), from: raw('from'), to: raw('to') };
    const [types, clients] = await Promise.all([deps.auditLog.types(), deps.clients.list()]);
    deps.render(ctx, 'audit', { title: 'Audit log', events: [], total: 0, filter, errors, types, clients, page: 1, pages: 1, query: '' }, 400);
  }, guard({ query: auditQuery }), async (ctx) => {
    const { page, ...filter } = guarded(ctx, { query: auditQuery }).query;
    const since = filter.from ? new Date(`${filter.from}T00:00:00Z`) : undefined;
    const until = filter.to ? new Date(Date.parse(`${filter.to}T00:00:00Z`) + DAY_MS) : undefined; // the whole "to" day
    const [{ total, events }, types, clients] = await Promise.all([
      deps.auditLog.searchNamed({
        type: filter.type || undefined, client: filter.client || undefined, userEmail: filter.user ? normalizeEmail(filter.user) : undefined,
        since, until, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE,
      }),
      deps.auditLog.types(),
      deps.clients.list(),
    ]);
    // a type or client picked before it left the lists stays chosen
    if (filter.type && !types.includes(filter.type)) types.push(filter.type);
    deps.render(ctx, 'audit', {
      title: 'Audit log', events, total, filter, errors: {}, types, clients,
      page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)), query: queryOf(filter),
    });
  });
}
