// Holds the live Provider. oidc-provider reads its keys once, at construction; when another node
// rotates the signing keys, this host notices (a cheap fingerprint query every few seconds) and
// swaps in a provider built with the new key set. Records live in the stores, so the swap is seamless.
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
  let fingerprint = await opts.keys.fingerprint();
  let provider = opts.build(await opts.keys.providerJwks());
  let timer: NodeJS.Timeout | undefined;

  const host: ProviderHost = {
    current: () => provider,
    async refresh() {
      const next = await opts.keys.fingerprint();
      if (next === fingerprint) return false;
      provider = opts.build(await opts.keys.providerJwks());
      fingerprint = next;
      opts.log.info('signing keys changed: provider reloaded');
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
