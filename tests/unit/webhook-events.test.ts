// The webhook event catalog: each audited change an app cares about maps to its webhook type with
// only the fields the catalog lists (never a secret, hash, token or the audit event's other data).
import { describe, expect, it } from '@jest/globals';
import { toWebhookEvent, WEBHOOK_EVENTS, WEBHOOK_EVENT_TYPES, firesWebhook } from '../../src/webhooks/events.ts';

const U = '6f1c2a9e-0000-4000-8000-000000000001';
const W = '6f1c2a9e-0000-4000-8000-0000000000aa';

describe('the webhook event catalog', () => {
  it.each([
    [{ type: 'user.created', subjectId: U, data: { source: 'upstream', provider: 'google' } }, 'user.created', { user_id: U, source: 'upstream', provider: 'google' }],
    [{ type: 'account.created', subjectId: U, data: { via: 'invitation', invitation_id: 'x' } }, 'user.created', { user_id: U, source: 'invitation' }],
    [{ type: 'user.updated', subjectId: U, actorId: 'admin', data: { fields: ['name'], source: 'admin' } }, 'user.updated', { user_id: U, fields: ['name'], source: 'admin' }],
    [{ type: 'profile.updated', subjectId: U, data: { fields: ['picture'] } }, 'user.updated', { user_id: U, fields: ['picture'], source: 'user' }],
    [{ type: 'email.changed', subjectId: U, actorId: U, data: { from: 'a@x.test', to: 'b@x.test' } }, 'user.updated', { user_id: U, fields: ['email'], email: 'b@x.test', source: 'user' }],
    [{ type: 'user.disabled', subjectId: U }, 'user.disabled', { user_id: U }],
    [{ type: 'user.enabled', subjectId: U }, 'user.enabled', { user_id: U }],
    [{ type: 'user.deleted', subjectId: U, data: { email: 'gone@x.test' } }, 'user.deleted', { user_id: U }],
    [{ type: 'email.verified', subjectId: U }, 'user.email_verified', { user_id: U }],
    [{ type: 'password.changed', subjectId: U }, 'user.password_changed', { user_id: U, method: 'changed' }],
    [{ type: 'password.reset', subjectId: U }, 'user.password_changed', { user_id: U, method: 'reset' }],
    [{ type: 'mfa.enrolled', subjectId: U, data: { factor: 'totp' } }, 'user.mfa_changed', { user_id: U, change: 'enrolled', factor: 'totp' }],
    [{ type: 'mfa.reset', subjectId: U }, 'user.mfa_changed', { user_id: U, change: 'reset' }],
    [{ type: 'workspace.created', subjectId: U, data: { workspace_id: W, slug: 'acme' } }, 'workspace.created', { workspace_id: W, slug: 'acme', owner_id: U }],
    [{ type: 'workspace.renamed', data: { workspace_id: W, from: 'Acme', to: 'Acme Inc' } }, 'workspace.renamed', { workspace_id: W, name: 'Acme Inc', previous_name: 'Acme' }],
    [{ type: 'workspace.member_role_changed', subjectId: U, data: { workspace_id: W, from: 'member', to: 'admin', managed_by: 'okta' } }, 'workspace.member_role_changed', { workspace_id: W, user_id: U, role: 'admin', previous_role: 'member', managed_by: 'okta' }],
    [{ type: 'session.ended_all', subjectId: U, actorId: U }, 'session.revoked', { user_id: U, all: true, by: 'user' }],
    [{ type: 'session.revoked', subjectId: U }, 'session.revoked', { user_id: U, all: false, by: 'admin' }],
    [{ type: 'grant.revoked', subjectId: U, clientId: 'app' }, 'grant.revoked', { user_id: U, client_id: 'app' }],
    [{ type: 'signin.locked_out', data: { email: 'Who@x.test', knownDevice: false } }, 'signin.failed_repeatedly', { email: 'Who@x.test' }],
    [{ type: 'identity.linked', subjectId: U, data: { provider: 'github', subject: '42' } }, 'identity.linked', { user_id: U, provider: 'github', subject: '42' }],
  ])('%j → %s', (audit, type, data) => {
    const e = toWebhookEvent(audit);
    expect(e?.type).toBe(type);
    expect(e?.data).toEqual(data);
  });

  it('orders a user\'s events by user, a workspace\'s and its memberships\' by workspace', () => {
    expect(toWebhookEvent({ type: 'password.changed', subjectId: U })).toMatchObject({ subject: `user:${U}`, workspaceId: null });
    expect(toWebhookEvent({ type: 'workspace.member_added', subjectId: U, data: { workspace_id: W } })).toMatchObject({ subject: `workspace:${W}`, workspaceId: W });
  });

  it('fires nothing for what apps do not hear of, or for an event about nobody', () => {
    for (const type of ['signin.succeeded', 'signin.failed', 'client.created', 'keys.rotated', 'workspace.switched', 'webhook.created']) {
      expect(firesWebhook(type)).toBe(false);
      expect(toWebhookEvent({ type, subjectId: U })).toBeNull();
    }
    expect(toWebhookEvent({ type: 'user.disabled' })).toBeNull();
  });

  it('never carries a secret, even when an audit event wrongly had one', () => {
    const leaky = { password: 'p', password_hash: '$argon2id$…', token: 't', secret: 's', code: 'c', fields: ['name'] };
    for (const spec of WEBHOOK_EVENTS) {
      for (const type of spec.audit) {
        const e = toWebhookEvent({ type, subjectId: U, actorId: U, data: { ...leaky, workspace_id: W, email: 'x@x.test' } });
        expect(Object.keys(e?.data ?? {}).every((k) => k in spec.fields)).toBe(true);
        expect(JSON.stringify(e)).not.toMatch(/argon2|"p"|"t"|"s"|"c"/);
      }
    }
  });

  it('lists each webhook type once, every one documented', () => {
    expect(new Set(WEBHOOK_EVENT_TYPES).size).toBe(WEBHOOK_EVENT_TYPES.length);
    for (const spec of WEBHOOK_EVENTS) expect(spec.summary.length).toBeGreaterThan(10);
  });
});
