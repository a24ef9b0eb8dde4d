import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { resolveDeviceBrokerKey, startStore } from '#polystore/runtime';
import { edgeStoreConfigSchema } from './config.js';
import { EdgeStoreModule } from './edge-store.module.js';

/**
 * Starts the edge store on the configuration read from `env` (see `startStore`). `main.ts`
 * runs it alone; the quickstart runs every app in one process with `handleSignals: false`.
 */
export function startEdgeStore(
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  return startStore(
    {
      service: 'edge-store',
      store: 'edge',
      configSchema: edgeStoreConfigSchema,
      module: (wiring) =>
        EdgeStoreModule.forRoot({
          ...wiring,
          deviceBrokerKey: resolveDeviceBrokerKey(wiring.config),
        }),
      httpPort: (config) => config.EDGE_HTTP_PORT,
      bodyLimit: (config) => config.INGEST_BODY_LIMIT_BYTES,
      accessLog: true,
    },
    env,
    options,
  );
}
