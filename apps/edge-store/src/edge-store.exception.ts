import { CodedError, ErrorKind } from '#polystore/platform';

export const EdgeStoreErrorCode = {
  /** The bearer token is missing, malformed, unknown or revoked. */
  DEVICE_UNAUTHENTICATED: 'DEVICE_UNAUTHENTICATED',
  /** One or more readings are invalid; `details.invalid` lists each with its reason. */
  INVALID_READINGS: 'INVALID_READINGS',
  /** The ingest queue is full: retry after `Retry-After` seconds. */
  INGEST_BUSY: 'INGEST_BUSY',
  /** The device sends more readings per second than `DEVICE_RATE_LIMIT_PER_S`. */
  DEVICE_RATE_LIMITED: 'DEVICE_RATE_LIMITED',
  /** The device broker (the telemetry stream) cannot be reached: retry. */
  BROKER_UNAVAILABLE: 'BROKER_UNAVAILABLE',
  DEVICE_NOT_FOUND: 'DEVICE_NOT_FOUND',
  /** The credential generation asked for is no longer the active one: a later rotation replaced it. */
  CREDENTIAL_SUPERSEDED: 'CREDENTIAL_SUPERSEDED',
  INVALID_QUERY: 'INVALID_QUERY',
} as const;
export type EdgeStoreErrorCode = (typeof EdgeStoreErrorCode)[keyof typeof EdgeStoreErrorCode];

/** One refused reading: its position in the request and why. */
export interface InvalidReading {
  readonly index: number;
  readonly seq?: number;
  readonly reason: string;
}

/** Errors raised by the edge store. */
export class EdgeStoreException extends CodedError<EdgeStoreErrorCode> {
  static unauthenticated(): EdgeStoreException {
    return new EdgeStoreException(
      EdgeStoreErrorCode.DEVICE_UNAUTHENTICATED,
      ErrorKind.UNAUTHENTICATED,
      'a valid device token is required (Authorization: Bearer <device token>)',
    );
  }

  static invalidReadings(invalid: readonly InvalidReading[]): EdgeStoreException {
    return new EdgeStoreException(
      EdgeStoreErrorCode.INVALID_READINGS,
      ErrorKind.INVALID_ARGUMENT,
      `${invalid.length} invalid reading(s): ${invalid
        .slice(0, 5)
        .map((r) => `[${r.index}] ${r.reason}`)
        .join('; ')}${invalid.length > 5 ? '; ...' : ''}`,
      {
        invalid: invalid.slice(0, 1_000),
        errors: invalid.slice(0, 1_000).map((r) => `readings[${r.index}]: ${r.reason}`),
      },
    );
  }

  static busy(): EdgeStoreException {
    return new EdgeStoreException(
      EdgeStoreErrorCode.INGEST_BUSY,
      ErrorKind.RESOURCE_EXHAUSTED,
      'ingest queue is full; retry shortly',
      { retryAfterSeconds: 1 },
    );
  }

  static rateLimited(): EdgeStoreException {
    return new EdgeStoreException(
      EdgeStoreErrorCode.DEVICE_RATE_LIMITED,
      ErrorKind.RESOURCE_EXHAUSTED,
      'this device sends more readings per second than it may; retry shortly',
      { retryAfterSeconds: 1 },
    );
  }

  static brokerUnavailable(): EdgeStoreException {
    return new EdgeStoreException(
      EdgeStoreErrorCode.BROKER_UNAVAILABLE,
      ErrorKind.UNAVAILABLE,
      'the device broker is unavailable; retry shortly',
      { retryAfterSeconds: 1 },
    );
  }

  static deviceNotFound(id: string): EdgeStoreException {
    return new EdgeStoreException(
      EdgeStoreErrorCode.DEVICE_NOT_FOUND,
      ErrorKind.NOT_FOUND,
      `device ${id} has no credentials`,
      { id },
    );
  }

  static credentialSuperseded(id: string, generation: number): EdgeStoreException {
    return new EdgeStoreException(
      EdgeStoreErrorCode.CREDENTIAL_SUPERSEDED,
      ErrorKind.CONFLICT,
      `device ${id}'s credential generation ${generation} was replaced by a later rotation`,
      { id, generation },
    );
  }

  static invalidQuery(message: string): EdgeStoreException {
    return new EdgeStoreException(EdgeStoreErrorCode.INVALID_QUERY, ErrorKind.INVALID_ARGUMENT, message);
  }
}
