import type { INestApplication } from '@nestjs/common';
import { ConfigError, CrashPoints, loadConfig } from '#polystore/platform';
import { stopTracing } from '#polystore/tracing';
import type { Logger } from 'pino';
import type { z } from 'zod';

/** Validates the environment once; on failure prints every bad variable and exits with 1. */
export function loadConfigOrExit<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * On SIGTERM or SIGINT: stop taking work, let in-flight work finish, close every connection
 * (Nest shutdown hooks), then exit 0; exit 1 if that takes longer than `timeoutMs`.
 * Unhandled rejections are logged, never fatal.
 */
export function installShutdown(app: INestApplication, logger: Logger, timeoutMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    app
      .close()
      .then(() => stopTracing()) // the last spans leave before the exit
      .then(() => {
        logger.info('stopped');
        logger.flush?.();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

/** Arms the configured crash points, in tests only (`NODE_ENV=test`); a no-op otherwise. */
export function armCrashPoints(config: { NODE_ENV: string; CRASH_POINTS: readonly string[] }): void {
  if (config.NODE_ENV === 'test' && config.CRASH_POINTS.length > 0) CrashPoints.arm(config.CRASH_POINTS);
}
