/** Injection token of the edge store's configuration. */
export const EDGE_CONFIG = Symbol('EDGE_CONFIG');

/** Injection token of the {@link TelemetryBroker}, or null without a device broker (`DEVICE_BROKER=off`). */
export const TELEMETRY_BROKER = Symbol('TELEMETRY_BROKER');

/** Injection token of the {@link DeviceRevocations}, or null without a device broker. */
export const DEVICE_REVOCATIONS = Symbol('DEVICE_REVOCATIONS');
