import {
  commonConfigShape,
  dataRouterConfigShape,
  refusedInProduction,
  requiredInProduction,
  checkServerUrlParameters,
} from '#polystore/runtime';
import { base64KeyVar, intVar, portVar, urlVar } from '#polystore/platform';
import { STORE_MANIFESTS, serverSchemes } from '#polystore/catalog';
import { z } from 'zod';

/** Environment of the edge store, validated once at boot. */
export const edgeStoreConfigSchema = z
  .object({
    ...commonConfigShape,
    ...dataRouterConfigShape(STORE_MANIFESTS.edge.configPrefix),
    /** Default server of new tenants' placements (the manifest's default unless set). */
    EDGE_SERVER_URL: urlVar(serverSchemes(STORE_MANIFESTS.edge), STORE_MANIFESTS.edge.defaultServerUrl).superRefine(
      checkServerUrlParameters,
    ),
    /** HTTP ingest (`POST /ingest`), metrics and health. */
    EDGE_HTTP_PORT: portVar(3100),
    /**
     * `nats`: devices reach the project's NATS server (MQTT and the `tenants.>` stream; HTTP ingest
     * publishes into that stream too). `off`: no broker at all; devices push over HTTP only and
     * readings are written directly (the zero-server quickstart). The DEVICE_* and TELEMETRY_*
     * variables below are then ignored.
     */
    DEVICE_BROKER: z.enum(['nats', 'off']).default('nats'),
    /** The device broker's NATS client URL(s), comma-separated for a cluster (`scripts/nats.sh`). */
    DEVICE_BROKER_URL: z
      .string()
      .default('nats://127.0.0.1:4223')
      .refine((v) => v.split(',').every((u) => /^(nats|tls):\/\/[^\s/@]+(:\d+)?\/?$/.test(u.trim())), {
        message: 'must be nats://host:port, comma-separated for several servers (no credentials in the URL)',
      }),
    /** Root of every broker key (32 bytes, base64); outside production, the development secrets file. */
    DEVICE_BROKER_KEY: base64KeyVar(32).optional(),
    /** Lifetime of a device credential; devices renew with `POST /credentials/renew`. 0 = never expires. */
    DEVICE_CREDENTIAL_TTL_DAYS: intVar(90, 0, 3_650),
    /** Readings per second one device may send (sustained; bursts of 10 s worth); beyond, dead-lettered. 0 = off. */
    DEVICE_RATE_LIMIT_PER_S: intVar(200, 0, 1_000_000),
    /** Replicas of the telemetry stream (3 on a 3-node broker cluster). */
    TELEMETRY_STREAM_REPLICAS: intVar(1, 1, 5),
    /** Bytes the telemetry stream keeps before discarding its oldest readings (alert at 80%). */
    TELEMETRY_STREAM_MAX_BYTES: intVar(8 * 1024 ** 3, 1_048_576),
    /** Hours a reading may wait in the stream for the edge store before it is discarded. */
    TELEMETRY_STREAM_MAX_AGE_HOURS: intVar(168, 1, 87_600),
    /** How often the stream's backlog is checked against its limit (`polystore_telemetry_stream_fill_ratio`). */
    TELEMETRY_FILL_CHECK_MS: intVar(15_000, 100, 3_600_000),
    /** Largest device message the stream takes (bigger ones are dropped by the broker). */
    TELEMETRY_MAX_MESSAGE_BYTES: intVar(1_048_576, 1_024, 8 * 1_048_576),
    /** Durable consumer shared by every replica of the edge store. */
    INGEST_CONSUMER: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .default('edge-store'),
    /** Messages handed to this process and not yet acknowledged. */
    INGEST_MAX_IN_FLIGHT: intVar(2_000, 1, 100_000),
    /**
     * A reading handed to a replica that died (or stalled) is delivered again after this (the
     * durable consumer's `ack_wait`, shared by every replica: the last one to start sets it). Below
     * a batch's worst write time it causes redeliveries of readings still being written (stored
     * once anyway: the insert is idempotent per reading).
     */
    INGEST_REDELIVER_AFTER_MS: intVar(20_000, 1_000, 3_600_000),
    /** Deliveries of a message that keeps failing for another reason than a database outage, before it is dead-lettered. */
    INGEST_MAX_DELIVERIES: intVar(5, 1, 1_000),
    /** Readings held in memory before ingest pushes back (HTTP 429 without a broker; the consumer stops pulling). */
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
  .superRefine(requiredInProduction(['STORE_KEY', 'CONTEXT_VERIFY_KEYS', 'CONTEXT_STORE_KEY']))
  .superRefine(
    refusedInProduction(
      ['MASTER_KEY'],
      'the edge store holds only its own key (STORE_KEY: npm run cli -- store-key edge); the master key decrypts PII',
    ),
  );

export type EdgeStoreConfig = z.output<typeof edgeStoreConfigSchema>;
