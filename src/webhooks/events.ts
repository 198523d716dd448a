// The webhook event catalog: which audited changes an app hears about, under which webhook type,
// with which `data`. One table, read by the outbox (src/webhooks/outbox.ts), docs/webhooks.md and
// the OpenAPI webhooks section. `data` is built field by field from the audit event (never spread),
// so a secret, hash or token can never ride along: only the ids and changed fields listed here.
//
// Ordering: messages of one `subject` go to an endpoint in the order they were written. A user's
// events share the subject `user:<id>`; a workspace's and its memberships' share `workspace:<id>`.
// Workspace filter: an endpoint registered for a workspace receives the events that carry that
// workspace's id (workspace.* events), not user events, which belong to no workspace.

/** The audit event as the audit trail hands it to its sinks (src/audit/audit.ts AuditEvent). */
export interface SourceEvent {
  type: string;
  actorId?: string | null;
  subjectId?: string | null;
  clientId?: string | null;
  data?: Record<string, unknown>;
}

/** A webhook event: the `type` and `data` of the body, and how it is ordered and filtered. */
export interface WebhookEvent {
  type: WebhookEventType;
  /** the ordering key: `user:<id>`, `workspace:<id>`, … */
  subject: string;
  /** the workspace the event belongs to (the endpoint's workspace filter), or null */
  workspaceId: string | null;
  data: Record<string, unknown>;
}

type Data = Record<string, unknown>;
type Projection = (e: SourceEvent, d: Data) => Data;

export interface WebhookEventSpec {
  type: string;
  summary: string;
  /** the audit event types that fire it */
  audit: readonly string[];
  /** `data`'s fields and what each means (docs and OpenAPI); every one is listed here */
  fields: Readonly<Record<string, string>>;
  /** 'user': subject is the audit event's subjectId; 'workspace': data.workspace_id */
  subject: 'user' | 'workspace' | 'signin';
  project: Projection;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
/** Drops undefined fields, so `data` holds only what the event knows. */
const compact = (d: Data): Data => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined));
const user = (e: SourceEvent) => ({ user_id: e.subjectId ?? undefined });
/** Who made the change: the user themself, an administrator, the operator (CLI) or the system. */
const by = (e: SourceEvent) => (e.actorId == null ? undefined : e.actorId === e.subjectId ? 'user' : 'admin');

const USER_ID = 'the user\'s id (the `sub` of their tokens)';
const WORKSPACE_ID = 'the workspace\'s id';

const SPECS: readonly WebhookEventSpec[] = [
  {
    type: 'user.created', summary: 'A user account was created (sign-up, admin, CLI, upstream sign-in or import).',
    audit: ['user.created', 'account.created'], subject: 'user',
    fields: { user_id: USER_ID, source: "'signup', 'invitation', 'admin', 'cli', 'upstream' or 'import'", provider: 'the upstream provider (source upstream)' },
    project: (e, d) => ({ ...user(e), source: str(d.source) ?? (e.type === 'account.created' ? str(d.via) ?? 'signup' : undefined), provider: str(d.provider) }),
  },
  {
    type: 'user.updated', summary: "A user's profile, email or settings changed (by the user, an admin, the CLI or an upstream provider).",
    audit: ['user.updated', 'profile.updated', 'email.changed'], subject: 'user',
    fields: { user_id: USER_ID, fields: 'names of the changed fields', email: 'the new email address (when it changed)', source: "who changed it: 'user', 'admin', 'cli', 'upstream', 'import'" },
    project: (e, d) => e.type === 'email.changed'
      ? { ...user(e), fields: ['email'], email: str(d.to), source: by(e) ?? 'user' }
      : { ...user(e), fields: strs(d.fields) ?? [], source: str(d.source) ?? (e.type === 'profile.updated' ? 'user' : by(e)) },
  },
  {
    type: 'user.disabled', summary: 'A user account was disabled; its sessions and grants ended.',
    audit: ['user.disabled'], subject: 'user', fields: { user_id: USER_ID }, project: (e) => user(e),
  },
  {
    type: 'user.enabled', summary: 'A disabled user account was enabled again.',
    audit: ['user.enabled'], subject: 'user', fields: { user_id: USER_ID }, project: (e) => user(e),
  },
  {
    type: 'user.deleted', summary: 'A user account was deleted.',
    audit: ['user.deleted'], subject: 'user', fields: { user_id: USER_ID }, project: (e) => user(e),
  },
  {
    type: 'user.email_verified', summary: 'A user verified their email address.',
    audit: ['email.verified'], subject: 'user', fields: { user_id: USER_ID }, project: (e) => user(e),
  },
  {
    type: 'user.password_changed', summary: "A user's password was changed or reset.",
    audit: ['password.changed', 'password.reset'], subject: 'user',
    fields: { user_id: USER_ID, method: "'changed' (knowing the old one) or 'reset' (by emailed link)" },
    project: (e) => ({ ...user(e), method: e.type === 'password.reset' ? 'reset' : 'changed' }),
  },
  {
    type: 'user.mfa_changed', summary: "A user's second factors changed.",
    audit: ['mfa.enrolled', 'mfa.removed', 'mfa.reset', 'mfa.recovery_codes_regenerated'], subject: 'user',
    fields: { user_id: USER_ID, change: "'enrolled', 'removed', 'reset' (by an admin: all removed) or 'recovery_codes_regenerated'", factor: "'totp' or 'passkey' (enrolled, removed)" },
    project: (e, d) => ({ ...user(e), change: e.type.slice('mfa.'.length), factor: str(d.factor) }),
  },
  {
    type: 'workspace.created', summary: 'A workspace was created.',
    audit: ['workspace.created'], subject: 'workspace',
    fields: { workspace_id: WORKSPACE_ID, slug: 'its slug', owner_id: 'the user who owns it' },
    project: (e, d) => ({ workspace_id: str(d.workspace_id), slug: str(d.slug), owner_id: e.subjectId ?? undefined }),
  },
  {
    type: 'workspace.renamed', summary: 'A workspace was renamed.',
    audit: ['workspace.renamed'], subject: 'workspace',
    fields: { workspace_id: WORKSPACE_ID, name: 'the new name', previous_name: 'the old name' },
    project: (_e, d) => ({ workspace_id: str(d.workspace_id), name: str(d.to), previous_name: str(d.from) }),
  },
  {
    type: 'workspace.deleted', summary: 'A workspace and its memberships were deleted.',
    audit: ['workspace.deleted'], subject: 'workspace',
    fields: { workspace_id: WORKSPACE_ID, slug: 'its slug' },
    project: (_e, d) => ({ workspace_id: str(d.workspace_id), slug: str(d.slug) }),
  },
  {
    type: 'workspace.member_added', summary: 'A user joined a workspace (invitation, admin, CLI or organisation sync).',
    audit: ['workspace.member_added'], subject: 'workspace',
    fields: { workspace_id: WORKSPACE_ID, user_id: USER_ID, role: 'their role', managed_by: 'the upstream provider whose organisation sync made the change' },
    project: (e, d) => ({ workspace_id: str(d.workspace_id), ...user(e), role: str(d.role), managed_by: str(d.managed_by) }),
  },
  {
    type: 'workspace.member_role_changed', summary: "A member's role in a workspace changed.",
    audit: ['workspace.member_role_changed'], subject: 'workspace',
    fields: { workspace_id: WORKSPACE_ID, user_id: USER_ID, role: 'the new role', previous_role: 'the old role', managed_by: 'as for member_added' },
    project: (e, d) => ({ workspace_id: str(d.workspace_id), ...user(e), role: str(d.to), previous_role: str(d.from), managed_by: str(d.managed_by) }),
  },
  {
    type: 'workspace.member_removed', summary: 'A user left or was removed from a workspace.',
    audit: ['workspace.member_removed'], subject: 'workspace',
    fields: { workspace_id: WORKSPACE_ID, user_id: USER_ID, role: 'the role they had', managed_by: 'as for member_added' },
    project: (e, d) => ({ workspace_id: str(d.workspace_id), ...user(e), role: str(d.role), managed_by: str(d.managed_by) }),
  },
  {
    type: 'session.revoked', summary: "A user's session ended, or all of them (signed out everywhere, or by an admin).",
    audit: ['session.ended', 'session.ended_all', 'session.revoked', 'session.revoked_all'], subject: 'user',
    fields: { user_id: USER_ID, all: 'true when every session of the user ended', by: "'user' or 'admin'" },
    project: (e) => ({ ...user(e), all: e.type.endsWith('_all'), by: e.type.startsWith('session.ended') ? 'user' : 'admin' }),
  },
  {
    type: 'grant.revoked', summary: "A user withdrew an app's access (its refresh tokens no longer work).",
    audit: ['grant.revoked'], subject: 'user',
    fields: { user_id: USER_ID, client_id: 'the app whose grant ended' },
    project: (e) => ({ ...user(e), client_id: e.clientId ?? undefined }),
  },
  {
    type: 'signin.failed_repeatedly', summary: 'Sign-ins to one address failed so often that further attempts are refused for a while.',
    audit: ['signin.locked_out'], subject: 'signin',
    fields: { email: 'the address typed at sign-in (it may belong to no account)' },
    project: (_e, d) => ({ email: str(d.email) }),
  },
  {
    type: 'identity.linked', summary: 'An upstream identity (provider and subject) was linked to a user.',
    audit: ['identity.linked'], subject: 'user',
    fields: { user_id: USER_ID, provider: 'the upstream provider', subject: "the user's id at that provider" },
    project: (e, d) => ({ ...user(e), provider: str(d.provider), subject: str(d.subject) }),
  },
  {
    type: 'identity.unlinked', summary: 'An upstream identity was unlinked from a user.',
    audit: ['identity.unlinked'], subject: 'user',
    fields: { user_id: USER_ID, provider: 'the upstream provider', subject: "the user's id at that provider" },
    project: (e, d) => ({ ...user(e), provider: str(d.provider), subject: str(d.subject) }),
  },
];

/** A ping sent by `gatehouse webhooks test` (and the console's "Send test"); never from a change. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** The catalog, in documentation order. */
export const WEBHOOK_EVENTS: readonly WebhookEventSpec[] = SPECS;
export type WebhookEventType = string;
/** Every type an endpoint may subscribe to (besides '*'). */
export const WEBHOOK_EVENT_TYPES: readonly string[] = SPECS.map((s) => s.type);
/** An endpoint's `events` value that subscribes to every type, including those added later. */
export const ALL_EVENTS = '*';

const byAuditType = new Map<string, WebhookEventSpec>(SPECS.flatMap((s) => s.audit.map((a) => [a, s] as const)));

/** Whether an audit type fires any webhook: the sink's first, free question. */
export const firesWebhook = (auditType: string): boolean => byAuditType.has(auditType);

/** The webhook event an audited change fires, or null when apps do not hear of it. */
export function toWebhookEvent(e: SourceEvent): WebhookEvent | null {
  const spec = byAuditType.get(e.type);
  if (!spec) return null;
  const d = e.data ?? {};
  const data = compact(spec.project(e, d));
  const workspaceId = spec.subject === 'workspace' ? (str(d.workspace_id) ?? null) : null;
  const key = spec.subject === 'workspace' ? workspaceId : spec.subject === 'signin' ? str(d.email)?.toLowerCase() : e.subjectId;
  if (!key) return null; // an event about nobody: nothing an app could act on
  return { type: spec.type, subject: `${spec.subject}:${key}`, workspaceId, data };
}
