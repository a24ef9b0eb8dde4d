import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { credsFile, userJwt, type NKey } from '#polystore/device-broker';

/**
 * A connection to the device broker as `user` of `account` (a user JWT the account signs here),
 * reconnecting for ever across the listed servers.
 */
export function connectToBroker(
  servers: readonly string[],
  identity: { readonly user: NKey; readonly account: NKey; readonly name: string },
): Promise<NatsConnection> {
  const jwt = userJwt({
    user: identity.user,
    account: identity.account,
    signer: identity.account,
    name: identity.name,
  });
  return connect({
    servers: [...servers],
    name: identity.name,
    authenticator: credsAuthenticator(new TextEncoder().encode(credsFile(jwt, identity.user))),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  });
}
