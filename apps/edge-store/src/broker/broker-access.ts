/**
 * What the edge store needs from the MQTT broker: per-device credentials that allow publishing
 * to exactly one topic, and an account for its own shared-subscription consumer.
 *
 * Implemented on Mosquitto 2's dynamic security plugin (`MosquittoDynamicSecurity`), driven over
 * MQTT (`$CONTROL/dynamic-security/v1`). Every method is idempotent.
 */
export interface BrokerAccess {
  /**
   * Lets `deviceId` connect with username = `deviceId`, password = `token`, and publish only to
   * `tenants/<tenant>/devices/<deviceId>/telemetry`. Re-granting replaces the password.
   */
  grantDevice(tenant: string, deviceId: string, token: string): Promise<void>;

  /** Removes the device's access and disconnects it at once if it is connected. */
  revokeDevice(deviceId: string): Promise<void>;

  /**
   * Ensures the consumer account exists: it may subscribe to `$share/<group>/tenants/#` and
   * receive `tenants/#`, nothing else. Re-ensuring replaces the password.
   */
  ensureIngestAccount(username: string, password: string, group: string): Promise<void>;

  close(): Promise<void>;
}

/** The topic a device publishes to. */
export function telemetryTopic(tenant: string, deviceId: string): string {
  return `tenants/${tenant}/devices/${deviceId}/telemetry`;
}
