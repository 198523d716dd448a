// Holds the live Provider. oidc-provider reads its keys once, at construction; when the key set
// changes, this host notices (a cheap fingerprint query every refresh interval) and swaps in a
// provider built with the new key set. Records live in the stores, so the swap is seamless. The
// fingerprint also changes when a pending key's activation time passes, so a delayed rotation
// takes effect on every node by itself, within one refresh interval of its activation time. "Now" is
// the database's clock, read at each refresh, so a node whose own clock is off switches on time too.
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { KeyService } from '../keys/key.service.ts';

export interface ProviderHost {
  current(): Provider;
  refresh(): Promise<boolean>;
  stop(): void;
}

export async function createProviderHost(opts: {
  keys: KeyService;
  build: (jwks: Awaited<ReturnType<KeyService['providerJwks']>>) => Provider;
  refreshSeconds: number;
  log: Logger;
}): Promise<ProviderHost> {
  const start = await opts.keys.now(); // one instant for both reads: the fingerprint describes the keys built
  let fingerprint = await opts.keys.fingerprint(start);
  let provider = opts.build(await opts.keys.providerJwks(start));
  let timer: NodeJS.Timeout | undefined;

  const host: ProviderHost = {
    current: () => provider,
    async refresh() {
      const now = await opts.keys.now();
      const next = await opts.keys.fingerprint(now);
      if (next === fingerprint) return false;
      provider = opts.build(await opts.keys.providerJwks(now));
      fingerprint = next;
      opts.log.info('signing keys changed (rotated, activated, retired or revoked): provider reloaded');
      return true;
    },
    stop() { if (timer) clearInterval(timer); },
  };
  timer = setInterval(() => {
    host.refresh().catch((err) => opts.log.warn({ err }, 'could not check for rotated signing keys'));
  }, opts.refreshSeconds * 1000);
  timer.unref();
  return host;
}
