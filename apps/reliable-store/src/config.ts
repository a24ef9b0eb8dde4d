import {
  commonConfigShape,
  dataRouterConfigShape,
  refusedInProduction,
  requiredInProduction,
  checkServerUrlParameters,
} from '#polystore/runtime';
import { intVar, portVar, urlVar } from '#polystore/platform';
import { STORE_MANIFESTS, serverSchemes } from '#polystore/catalog';
import { z } from 'zod';

/** Environment of the reliable store, validated once at boot. */
export const reliableStoreConfigSchema = z
  .object({
    ...commonConfigShape,
    ...dataRouterConfigShape(STORE_MANIFESTS.reliable.configPrefix),
    /** Default server of new tenants' reliable databases: MariaDB/MySQL (or PostgreSQL). */
    /** Default server of new tenants' placements (the manifest's default unless set). */
    RELIABLE_SERVER_URL: urlVar(
      serverSchemes(STORE_MANIFESTS.reliable),
      STORE_MANIFESTS.reliable.defaultServerUrl,
    ).superRefine(checkServerUrlParameters),
    /** Metrics and health (`/metrics`, `/health/live`). */
    RELIABLE_HTTP_PORT: portVar(3202),
    /** How long an idempotency key (and its stored result) is kept. */
    IDEMPOTENCY_TTL_MS: intVar(24 * 3_600_000, 60_000),
    /** Catch-up drain of every tenant's outbox (the commit-time drain is immediate). */
    OUTBOX_SWEEP_INTERVAL_MS: intVar(5 * 60_000, 1_000),
  })
  .superRefine(requiredInProduction(['STORE_KEY', 'CONTEXT_VERIFY_KEYS', 'CONTEXT_STORE_KEY']))
  .superRefine(
    refusedInProduction(
      ['MASTER_KEY'],
      'the reliable store holds only its own key (STORE_KEY: npm run cli -- store-key reliable); the master key decrypts PII',
    ),
  );

export type ReliableStoreConfig = z.output<typeof reliableStoreConfigSchema>;

/** Injection token of {@link ReliableStoreConfig}. */
export const RELIABLE_CONFIG = Symbol('RELIABLE_CONFIG');
