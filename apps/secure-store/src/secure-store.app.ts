import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startStore } from '#polystore/runtime';
import { secureStoreConfigSchema } from './config.js';
import { SecureStoreModule } from './secure-store.module.js';

/**
 * Starts the secure store on the configuration read from `env` (see `startStore`). `main.ts`
 * runs it alone; the quickstart runs every app in one process with `handleSignals: false`.
 */
export function startSecureStore(
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  return startStore(
    {
      service: 'secure-store',
      store: 'secure',
      holdsMasterKey: true,
      configSchema: secureStoreConfigSchema,
      module: (wiring) => SecureStoreModule.forRoot(wiring),
      httpPort: (config) => config.SECURE_HTTP_PORT,
    },
    env,
    options,
  );
}
