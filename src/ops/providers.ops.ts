// Operator operations on upstream identity providers: the CLI's `gatehouse providers …`, run
// directly or over the embedded server's control socket (src/ops/control.ts). Audited (in the
// change's transaction, by the service) as the operator's changes.
import type { ProviderService } from '../upstream/provider.service.ts';
import type { ProviderInput, ProviderPatchInput } from '../upstream/provider.schema.ts';

/** Changes made from the operator CLI carry no actor: they are the operator's, on the host. */
const OPERATOR_ORIGIN = { actorId: null, clientId: null, ip: null, userAgent: 'gatehouse CLI' };

type Args = Record<string, any>;
/** Only the fields the operator gave: what is not given stays. */
const given = (a: Args) => Object.fromEntries(Object.entries(a.fields ?? {}).filter(([, v]) => v !== undefined));

export const providerOperations: Record<string, (c: { providers: ProviderService }, args: Args) => Promise<unknown>> = {
  'providers.add': (c, a) => c.providers.create(given(a) as ProviderInput, OPERATOR_ORIGIN, 'cli'),
  'providers.list': (c) => c.providers.list(),
  'providers.show': (c, a) => c.providers.show(String(a.name ?? '')),
  'providers.update': (c, a) => c.providers.update(String(a.name ?? ''), given(a) as ProviderPatchInput, OPERATOR_ORIGIN),
  'providers.impact': (c, a) => c.providers.impact(String(a.name ?? '')),
  'providers.remove': (c, a) => c.providers.remove(String(a.name ?? ''), { force: a.force === true }, OPERATOR_ORIGIN),
};
