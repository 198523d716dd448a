// What the JSON API routers need; wired once in src/app.ts.
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Container } from '../root.ts';
import type { Audit } from '../audit/audit.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { LimiterFactory } from '../security/rate-limit.ts';

export interface ApiDeps {
  provider: () => Provider;
  container: Container;
  audit: Audit;
  mailer: Mailer;
  log: Logger;
  limiters: LimiterFactory;
}
