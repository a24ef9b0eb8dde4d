import { commonConfigShape, dataRouterConfigShape, requiredInProduction } from '#polystore/runtime';
import { portVar, urlVar } from '#polystore/platform';
import { z } from 'zod';

/** Environment of the secure store, validated once at boot. */
export const secureStoreConfigSchema = z
  .object({
    ...commonConfigShape,
    ...dataRouterConfigShape('SECURE'),
    /** Default server of new tenants' secure databases. */
    SECURE_SERVER_URL: urlVar(['postgres:', 'postgresql:'], 'postgres://root@127.0.0.1:5432'),
    /** Metrics and health (`/metrics`, `/health/live`). */
    SECURE_HTTP_PORT: portVar(3201),
  })
  .superRefine(requiredInProduction(['MASTER_KEY']));

export type SecureStoreConfig = z.output<typeof secureStoreConfigSchema>;
