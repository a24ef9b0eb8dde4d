import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startStore } from '#polystore/runtime';
import { reliableStoreConfigSchema } from './config.js';
import { ReliableStoreModule } from './reliable-store.module.js';

/**
 * Starts the reliable store on the configuration read from `env` (see `startStore`). `main.ts`
 * runs it alone; the quickstart runs every app in one process with `handleSignals: false`.
 */
export function startReliableStore(
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  return startStore(
    {
      service: 'reliable-store',
      store: 'reliable',
      configSchema: reliableStoreConfigSchema,
      module: (wiring) => ReliableStoreModule.forRoot(wiring),
      httpPort: (config) => config.RELIABLE_HTTP_PORT,
    },
    env,
    options,
  );
}
