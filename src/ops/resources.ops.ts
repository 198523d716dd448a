// Operator operations on resources (APIs): the CLI's `gatehouse resources …`, run directly or over
// the embedded server's control socket (src/ops/control.ts). Audited as the operator's changes.
import type { ResourceService } from '../resources/resource.service.ts';

/** Changes made from the operator CLI carry no actor: they are the operator's, on the host. */
const OPERATOR_ORIGIN = { actorId: null, clientId: null, ip: null, userAgent: 'gatehouse CLI' };

type Args = Record<string, any>;
const ref = (a: Args) => String(a.resource ?? '');
/** Only the fields the operator gave: what is not given stays. */
const given = (a: Args) => Object.fromEntries(['name', 'claims', 'scopes', 'ttl', 'enabled'].filter((k) => a[k] !== undefined).map((k) => [k, a[k]]));

export const resourceOperations: Record<string, (c: { resources: ResourceService }, args: Args) => Promise<unknown>> = {
  'resources.create': (c, a) => c.resources.create({ audience: String(a.audience ?? ''), ...given(a) }, 'cli', OPERATOR_ORIGIN),
  'resources.list': (c) => c.resources.list(),
  'resources.show': (c, a) => c.resources.show(ref(a)),
  'resources.update': (c, a) => c.resources.update(ref(a), given(a), OPERATOR_ORIGIN),
  'resources.remove': (c, a) => c.resources.remove(ref(a), OPERATOR_ORIGIN),
};
