import { commonConfigShape, dataRouterConfigShape, requiredInProduction } from '#polystore/runtime';
import { boolVar, intVar, portVar, urlVar } from '#polystore/platform';
import { STORE_MANIFESTS, serverSchemes } from '#polystore/catalog';
import { z } from 'zod';

/** Environment of the edge store, validated once at boot. */
export const edgeStoreConfigSchema = z
  .object({
    ...commonConfigShape,
    ...dataRouterConfigShape(STORE_MANIFESTS.edge.configPrefix),
    /** Default server of new tenants' edge databases (PostgreSQL; `mongodb://` supported). */
    /** Default server of new tenants' placements (the manifest's default unless set). */
    EDGE_SERVER_URL: urlVar(serverSchemes(STORE_MANIFESTS.edge), STORE_MANIFESTS.edge.defaultServerUrl),
    /** HTTP ingest (`POST /ingest`), metrics and health. */
    EDGE_HTTP_PORT: portVar(3100),
    /**
     * false: no MQTT broker at all; devices push over HTTP only (the zero-server quickstart).
     * The MQTT_* variables below are then ignored.
     */
    MQTT_ENABLED: boolVar(true),
    /** The project's Mosquitto (dynamic security). Credentials in the URL are the dynsec admin's. */
    MQTT_URL: urlVar(['mqtt:', 'mqtts:'], 'mqtt://127.0.0.1:1884'),
    MQTT_ADMIN_USERNAME: z.string().min(1).default('polystore-admin'),
    /** Password of the dynsec admin (or in MQTT_URL); outside production, the development secrets file. */
    MQTT_ADMIN_PASSWORD: z.string().min(1).optional(),
    /** The edge store's own consumer account (password derived from MASTER_KEY). */
    MQTT_INGEST_USERNAME: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default('polystore-edge-ingest'),
    /** Shared-subscription group: replicas in one group split the messages. */
    MQTT_SHARED_GROUP: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('edge-store'),
    /** Unacknowledged messages the broker may send this process (MQTT 5 Receive Maximum). */
    MQTT_RECEIVE_MAXIMUM: intVar(2_000, 1, 65_535),
    /** Readings held in memory before ingest pushes back (HTTP 429, MQTT stops acknowledging). */
    INGEST_MAX_QUEUED_READINGS: intVar(50_000, 1),
    INGEST_BATCH_MAX_ROWS: intVar(1_000, 1, 10_000),
    INGEST_BATCH_MAX_DELAY_MS: intVar(20, 1, 10_000),
    INGEST_MAX_CONCURRENT_WRITES: intVar(4, 1, 100),
    /** Largest HTTP ingest body (a request carries at most 1,000 readings). */
    INGEST_BODY_LIMIT_BYTES: intVar(1_048_576, 1_024, 64 * 1_048_576),
    /** Readings older than this are deleted (0 keeps everything). */
    RETENTION_DAYS: intVar(30, 0, 36_500),
    RETENTION_INTERVAL_MS: intVar(3_600_000, 1_000),
  })
  .superRefine(requiredInProduction(['MASTER_KEY']));

export type EdgeStoreConfig = z.output<typeof edgeStoreConfigSchema>;
