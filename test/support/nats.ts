import { connectNats, MessageClient } from '#polystore/messaging';
import { headers, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { eventually } from './eventually.js';
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

/**
 * The first message published on `subject` while `act` runs, as a process subscribed on the bus
 * sees it (the copy a replay would start from). `nc` must be allowed to subscribe there.
 */
export async function copyOfRequest(nc: NatsConnection, subject: string, act: () => Promise<unknown>): Promise<Msg> {
  const copies: Msg[] = [];
  const spy = nc.subscribe(subject, {
    callback: (_error, msg) => {
      copies.push(msg);
    },
  });
  await nc.flush();
  try {
    await act();
    await eventually(() => copies.length > 0, { what: `a copy of a request on ${subject}` });
  } finally {
    spy.unsubscribe();
  }
  return copies[0]!;
}

/** A fresh header set holding `msg`'s headers as sent (the first value of each). */
export function copiedHeaders(msg: Msg): MsgHdrs {
  const copy = headers();
  for (const [name, values] of msg.headers!) copy.set(name, values[0]!);
  return copy;
}
