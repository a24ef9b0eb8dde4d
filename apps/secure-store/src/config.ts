import {
  commonConfigShape,
  dataRouterConfigShape,
  requiredInProduction,
  checkServerUrlParameters,
} from '#polystore/runtime';
import { intVar, portVar, urlVar } from '#polystore/platform';
import { STORE_MANIFESTS, serverSchemes } from '#polystore/catalog';
import { z } from 'zod';

/** Environment of the secure store, validated once at boot. */
export const secureStoreConfigSchema = z
  .object({
    ...commonConfigShape,
    ...dataRouterConfigShape(STORE_MANIFESTS.secure.configPrefix),
    /** Default server of new tenants' placements (the manifest's default unless set). */
    SECURE_SERVER_URL: urlVar(
      serverSchemes(STORE_MANIFESTS.secure),
      STORE_MANIFESTS.secure.defaultServerUrl,
    ).superRefine(checkServerUrlParameters),
    /** Metrics and health (`/metrics`, `/health/live`). */
    SECURE_HTTP_PORT: portVar(3201),
    /** How long an idempotency key of a customer write (and its stored result) is kept. */
    IDEMPOTENCY_TTL_MS: intVar(24 * 3_600_000, 60_000),
    /** A tenant's audit chain is checkpointed (signed, in the catalog) after this many new records... */
    AUDIT_CHECKPOINT_EVERY: intVar(1_000, 1),
    /** ...or this long after the first record appended since its last checkpoint. */
    AUDIT_CHECKPOINT_INTERVAL_MS: intVar(60_000, 50),
  })
  .superRefine(requiredInProduction(['MASTER_KEY', 'CONTEXT_VERIFY_KEYS', 'CONTEXT_STORE_KEY']));

export type SecureStoreConfig = z.output<typeof secureStoreConfigSchema>;
