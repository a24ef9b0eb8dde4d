import { connectNats, MessageClient } from '#polystore/messaging';
import type { NatsConnection } from '@nats-io/transport-node';
import { testContextSigner } from './context-keys.js';
import { TestServices } from './services.js';

/** A NATS connection and a typed client speaking to one test stack (its subject prefix). */
export async function stackClient(
  prefix: string,
  defaultTimeoutMs = 5_000,
): Promise<{ nc: NatsConnection; client: MessageClient }> {
  const nc = await connectNats({ url: TestServices.natsUrl, name: `test:${prefix}` });
  return { nc, client: new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs, signer: testContextSigner }) };
}
