import type { BrokerAccess } from './broker-access.js';

/**
 * Broker access when the edge store runs without an MQTT broker (`MQTT_ENABLED=false`, e.g. the
 * zero-server quickstart): devices push over HTTP only (`POST /ingest`), which checks their
 * token against the edge database itself, so there is no broker account to grant or revoke.
 */
export class HttpOnlyBrokerAccess implements BrokerAccess {
  async grantDevice(): Promise<void> {}

  async revokeDevice(): Promise<void> {}

  async ensureIngestAccount(): Promise<void> {}

  async close(): Promise<void> {}
}
