import type { App } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { Logger } from './logger.js';

/** The configuration of an entry point; a bad environment ends the process with every problem listed. */
export function configOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

/** SIGINT/SIGTERM stop the app gracefully (once), then exit with its outcome. */
export function stopOnSignals(app: App, logger: Logger): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      app.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
