import { connect, type NatsConnection } from '@nats-io/transport-node';

/** Connection settings shared by clients and servers. */
export interface NatsSettings {
  readonly url: string;
  /** Client name shown by the NATS server (`<service>:<pid>`). */
  readonly name: string;
}

/**
 * Connects to NATS and keeps reconnecting forever: a NATS outage makes requests fail with
 * `SERVICE_UNAVAILABLE` but never kills the process, and traffic resumes when NATS returns.
 */
export function connectNats(settings: NatsSettings): Promise<NatsConnection> {
  return connect({
    servers: settings.url.split(','),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // nats.js otherwise builds an Error per request just to keep a stack for a later failure.
    noAsyncTraces: true,
  });
}
