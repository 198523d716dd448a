// Operator operations: what the CLI does to the database, as named functions of the services the
// composition root built (src/root.ts; the CLI builds one root per command, the server one for its
// life). The CLI runs them directly, or — when a server holds the embedded database — asks that
// server to run them over its control socket (src/ops/control.ts). One list, two transports.
import type { AccountService } from '../accounts/account.service.ts';
import type { ClientService } from '../clients/client.service.ts';
import type { KeyService } from '../keys/key.service.ts';
import type { WorkspaceService } from '../workspaces/workspace.service.ts';
import type { AdminService } from '../admin/admin.service.ts';
import type { Audit } from '../audit/audit.ts';
import type { ClientInput } from '../clients/client.schema.ts';
import { badRequest, notFound, unavailable } from '../errors/app-error.ts';
import { isUuid, type UserRow } from '../accounts/account.repo.ts';
import { userView } from '../accounts/account.service.ts';
import { SIGNING_ALGS, type SigningAlg } from '../keys/key.service.ts';
import type { Transactions } from '../storage/transactions.ts';
import type { ResourceService } from '../resources/resource.service.ts';
import { resourceOperations } from './resources.ops.ts';
import type { WebhookAdmin } from '../admin/webhooks.manage.ts';
import { webhookOperations } from './webhooks.ops.ts';
import { transferOperations, type TransferOperationDeps } from './transfer.ops.ts';
import type { ProviderService } from '../upstream/provider.service.ts';
import { providerOperations } from './providers.ops.ts';

/** The services the operations use: a slice of the root. */
export interface OperationDeps {
  accounts: AccountService;
  clients: ClientService;
  keys: KeyService;
  workspaces: WorkspaceService;
  admin: AdminService;
  audit: Audit;
  transactions: Transactions;
  resources: ResourceService;
  webhookAdmin: WebhookAdmin;
  userImport: TransferOperationDeps['userImport'];
  userExport: TransferOperationDeps['userExport'];
  providers: ProviderService;
}

async function findUser(c: OperationDeps, ref: string): Promise<UserRow> {
  const user = isUuid(ref) ? await c.accounts.findById(ref) : await c.accounts.findByEmail(ref);
  if (!user) throw notFound(`no user "${ref}"`);
  return user;
}

type Args = Record<string, any>;

/** Whether the account reads as disabled now (false too when Postgres cannot say). */
const stillDisabled = (c: OperationDeps, id: string) => c.accounts.findById(id).then((u) => !!u?.disabled_at, () => false);
/** The store's own words, one line: for an operator on the host, never for an HTTP client. */
const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200);

/** Changes made from the operator CLI carry no actor: they are the operator's, on the host. */
const OPERATOR_ORIGIN = { actorId: null, clientId: null, ip: null, userAgent: 'gatehouse CLI' };

export const operations: Record<string, (c: OperationDeps, args: Args) => Promise<unknown>> = {
  'clients.create': (c, a) => c.clients.create(a as ClientInput),
  'clients.list': (c) => c.clients.list(),
  'clients.show': (c, a) => c.clients.show(String(a.client_id)),
  'clients.delete': async (c, a) => { await c.clients.delete(String(a.client_id)); return { deleted: a.client_id }; },
  'clients.rotate-secret': (c, a) => c.clients.rotateSecret(String(a.client_id)),

  'users.create': async (c, a) => userView(await c.transactions.run(async (tx) => {
    const user = await c.accounts.create({
      email: String(a.email ?? ''), password: a.password, name: a.name, roles: a.admin ? ['admin'] : [], emailVerified: !!a.verified,
    }, tx);
    await c.audit.record({ type: 'user.created', subjectId: user.id, ...OPERATOR_ORIGIN, data: { source: 'cli' } }, tx);
    return user;
  })),
  'users.list': async (c, a) => (await c.accounts.list({ limit: Number(a.limit ?? 100), offset: Number(a.offset ?? 0) })).map(userView),
  'users.show': async (c, a) => userView(await findUser(c, String(a.user))),
  // the same changes, audit events included, as the admin API and console make (actor: the operator)
  'users.disable': async (c, a) => {
    const user = await findUser(c, String(a.user));
    try {
      return userView(await c.admin.disable(user.id, OPERATOR_ORIGIN));
    } catch (e) {
      // The SQL half commits first, then sessions and grants end in Redis. If the account reads as
      // disabled now, what is left undone is the revocation: say so; running it again finishes it.
      if (!await stillDisabled(c, user.id)) throw e;
      throw unavailable(`${user.email} is disabled (no sign-in, no new tokens, and its tokens are refused), but its sessions and grants could not be ended yet: ${reasonOf(e)}. Run the same command again to finish.`);
    }
  },
  'users.enable': async (c, a) => {
    const user = await findUser(c, String(a.user));
    try {
      return userView(await c.admin.enable(user.id, OPERATOR_ORIGIN));
    } catch (e) {
      if (!await stillDisabled(c, user.id)) throw e;
      throw unavailable(`${user.email} is still disabled: its old sessions and grants must end before it is enabled, and they could not be ended yet: ${reasonOf(e)}. Run the same command again.`);
    }
  },
  'users.require-mfa': async (c, a) => userView(await c.admin.change(
    (await findUser(c, String(a.user))).id, 'user.updated', { mfa_required: a.required !== false }, OPERATOR_ORIGIN, { fields: ['mfa_required'] },
  )),

  'keys.list': (c) => c.keys.list(),
  // key changes are audited as the admin API audits them (actor: the operator)
  'keys.rotate': async (c, a) => {
    const algs = (a.alg ? [a.alg] : SIGNING_ALGS) as SigningAlg[];
    if (!algs.every((x) => (SIGNING_ALGS as readonly string[]).includes(x))) throw badRequest(`alg must be one of ${SIGNING_ALGS.join(', ')}`);
    const activateInSeconds = a.activate_in === undefined || a.activate_in === null ? undefined : Number(a.activate_in);
    const { kids, activatesAt } = await c.keys.rotate(algs, { activateInSeconds });
    await c.audit.record({ type: 'keys.rotated', ...OPERATOR_ORIGIN, data: { kids, activates_at: activatesAt.toISOString() } });
    return { rotated: kids, activatesAt };
  },
  'keys.revoke': async (c, a) => {
    const revoked = await c.keys.revoke(String(a.kid ?? ''));
    await c.audit.record({ type: 'keys.revoked', ...OPERATOR_ORIGIN, data: { kid: revoked.kid, alg: revoked.alg, was: revoked.status } });
    return { revoked: revoked.kid, alg: revoked.alg, was: revoked.status };
  },

  'workspaces.create': (c, a) => c.workspaces.operatorCreate({ slug: a.slug, name: a.name, owner: String(a.owner ?? '') }),
  'workspaces.list': (c) => c.workspaces.operatorList(),
  'workspaces.add-member': (c, a) => c.workspaces.operatorAddMember(a.workspace, String(a.email ?? ''), a.role ?? 'member'),
  'workspaces.remove-member': (c, a) => c.workspaces.operatorRemoveMember(a.workspace, String(a.email ?? '')),
  ...resourceOperations,
  ...webhookOperations,
  ...transferOperations,
  ...providerOperations,
};

export async function runOperation(c: OperationDeps, name: string, args: Args): Promise<unknown> {
  const op = operations[name];
  if (!op) throw notFound(`unknown operation ${name}`);
  return op(c, args);
}
