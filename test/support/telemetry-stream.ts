import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ingestConnection, type PrivateBroker, type PrivateBrokerCluster } from './device-broker.js';

/** One message of the dead-letter stream, with the reason the edge store gave. */
export interface DeadLetter {
  readonly subject: string;
  readonly origin: string;
  readonly reason: string;
  readonly detail: string;
  readonly payload: string;
}

/** The dead letters of one device (`deadletters.<tenant>.devices.<id>.telemetry`), oldest first. */
export async function deadLettersOf(
  broker: PrivateBroker | PrivateBrokerCluster,
  tenant: string,
  deviceId: string,
): Promise<DeadLetter[]> {
  const nc = await ingestConnection(broker);
  try {
    const subject = `deadletters.${tenant}.devices.${deviceId}.telemetry`;
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('DEAD_LETTERS', { subjects_filter: subject }).catch(() => null);
    const count = info?.state.subjects?.[subject] ?? 0;
    if (count === 0) return [];
    const consumer = await jetstream(nc).consumers.get('DEAD_LETTERS', { filter_subjects: subject });
    const letters: DeadLetter[] = [];
    for await (const message of await consumer.fetch({ max_messages: count, expires: 5_000 })) {
      letters.push({
        subject: message.subject,
        origin: message.headers?.get('Polystore-Subject') ?? '',
        reason: message.headers?.get('Polystore-Reason') ?? '',
        detail: message.headers?.get('Polystore-Detail') ?? '',
        payload: message.string(),
      });
      if (letters.length === count) break;
    }
    return letters;
  } finally {
    await nc.close();
  }
}

/** Messages the telemetry stream holds for one device subject. */
export async function streamedCount(broker: PrivateBroker | PrivateBrokerCluster, subject: string): Promise<number> {
  const nc = await ingestConnection(broker);
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('TELEMETRY', { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  } finally {
    await nc.close();
  }
}
