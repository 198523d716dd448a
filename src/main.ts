// Process entry: configuration, logging, start, and a graceful stop on SIGTERM/SIGINT.
import { loadConfig, ConfigError } from './config/index.ts';
import { createLogger, wantsPrettyLogs } from './observability/logger.ts';
import { startServer, StartProblem } from './server.ts';

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
    // a problem a setting fixes (a busy port, a refused admin password) is one sentence; anything
    // else keeps its message too, but never a stack trace on the operator's screen
    const message = (err as Error).message;
    if (err instanceof StartProblem) { if (!wantsPrettyLogs()) log.fatal({ problem: true }, message); } // a terminal gets the sentence once, below
    else log.fatal({ err: message }, 'gatehouse could not start');
    log.flush?.();
    console.error(`gatehouse: ${message}`);
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
