// Process entry: configuration, logging, start, and a graceful stop on SIGTERM/SIGINT.
import { loadConfig, ConfigError } from './config/index.ts';
import { createLogger } from './observability/logger.ts';
import { startServer } from './server.ts';

export async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) { console.error(`gatehouse: ${e.message}`); process.exit(2); }
    throw e;
  }
  const log = createLogger(config.logLevel);
  let running;
  try {
    running = await startServer(config, log);
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'gatehouse could not start');
    console.error(`gatehouse: ${(err as Error).message}`);
    process.exit(1);
  }
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
