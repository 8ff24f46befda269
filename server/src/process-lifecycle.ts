import { SHUTDOWN_MARGIN_MS, type App } from './app.js';
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

/**
 * SIGINT/SIGTERM stop the app gracefully (once: under `npm start` a Ctrl+C reaches node twice, from
 * the terminal and forwarded by npm), then exit with its outcome: 0 when everything closed, 1 when a
 * step failed or overran. app.stop() is bounded; the watchdog is the last resort should it still not
 * settle. `npm start` runs the entry with `exec node --import tsx …` so that npm's child is this
 * process: npm forwards SIGINT/SIGTERM to its direct child only, and the `sh -c` it runs scripts in
 * does not relay them (dash just dies), so tsx and node never saw them and kept the port.
 */
export function stopOnSignals(app: App, logger: Logger): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      const deadlineMs = app.config.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS;
      logger.info({ signal, deadlineMs }, 'shutting down');
      setTimeout(() => {
        logger.fatal({ deadlineMs }, 'shutdown did not finish by its deadline: exiting');
        process.exit(1);
      }, deadlineMs + WATCHDOG_SLACK_MS).unref();
      app.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown incomplete');
          process.exit(1);
        },
      );
    });
  }
}

/** Past the shutdown's own deadline, for its last log lines. */
const WATCHDOG_SLACK_MS = 1_000;
