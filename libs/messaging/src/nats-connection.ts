import { connect, type NatsConnection } from '@nats-io/transport-node';
import { busAuthenticator } from './bus-auth.js';
import { InProcessNats, isInProcessUrl } from './in-process-nats.js';

/** Connection settings shared by clients and servers. */
export interface NatsSettings {
  /** `nats://` / `tls://` servers (comma-separated), or `inproc://<name>` for the in-process transport. */
  readonly url: string;
  /** Client name shown by the NATS server (`<service>:<pid>`). */
  readonly name: string;
  /** The service's NKey seed on an authenticated bus (NATS_NKEY_SEED); none on an open one. */
  readonly nkeySeed?: string;
}

/**
 * Connects to NATS and keeps reconnecting forever: a NATS outage makes requests fail with
 * `SERVICE_UNAVAILABLE` but never kills the process, and traffic resumes when NATS returns.
 *
 * `inproc://<name>` connects instead to the in-process server `<name>` ({@link InProcessNats}):
 * every connection of the process opened on that name reaches the others, without a NATS server.
 */
export function connectNats(settings: NatsSettings): Promise<NatsConnection> {
  if (isInProcessUrl(settings.url)) return InProcessNats.connect(settings.url, settings.name);
  return connect({
    servers: settings.url.split(','),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // nats.js otherwise builds an Error per request just to keep a stack for a later failure.
    noAsyncTraces: true,
    ...(settings.nkeySeed ? { authenticator: busAuthenticator(settings.nkeySeed) } : {}),
  });
}
