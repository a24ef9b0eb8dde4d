import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { errors, type NatsConnection } from '@nats-io/transport-node';
import { InProcessNats, subjectMatches } from './in-process-nats.js';

/** The stream to publish to: created, or updated to this configuration, when opened. */
export interface EventStreamConfig {
  readonly name: string;
  /** Subjects the stream captures (wildcards allowed). */
  readonly subjects: readonly string[];
  /** A message id published again within this window is dropped (nanoseconds). */
  readonly duplicateWindowNs: number;
  /** Messages older than this are discarded (nanoseconds). */
  readonly maxAgeNs: number;
}

/** Publishes events to a stream, each with a message id that makes a republish harmless. */
export interface EventStream {
  /**
   * Publishes `payload` on `subject` (one of the stream's subjects). A `msgId` already
   * published within the duplicate window is dropped. Resolves once the stream has it
   * (JetStream's ack); rejects when it could not be stored, so the caller publishes again.
   */
  publish(subject: string, payload: string | Uint8Array, msgId: string): Promise<void>;
}

/**
 * Opens an event stream on `nc`.
 *
 * On NATS it is a JetStream stream: created, or updated when it exists, then published to with
 * `msgID` (stored, at least once, deduplicated by the server within the window).
 * On an {@link InProcessNats} connection there is no JetStream: each event is a core NATS
 * message to the subscribers of the moment (at most once, nothing stored), and a repeated
 * `msgId` within the window is dropped by the in-process server.
 */
export async function openEventStream(nc: NatsConnection, config: EventStreamConfig): Promise<EventStream> {
  if (nc instanceof InProcessNats) return inProcessEventStream(nc, config);
  const jsm = await jetstreamManager(nc);
  const stream = {
    name: config.name,
    subjects: [...config.subjects],
    duplicate_window: config.duplicateWindowNs,
    max_age: config.maxAgeNs,
  };
  await jsm.streams.add(stream).catch(async () => jsm.streams.update(stream.name, stream));
  const js = jetstream(nc);
  return {
    async publish(subject, payload, msgId) {
      await js.publish(subject, payload, { msgID: msgId });
    },
  };
}

function inProcessEventStream(nc: InProcessNats, config: EventStreamConfig): EventStream {
  const windowMs = config.duplicateWindowNs / 1_000_000;
  return {
    publish(subject, payload, msgId) {
      return new Promise<void>((resolve) => {
        // As on NATS, where no stream captures the subject, nobody answers the publish.
        if (!config.subjects.some((pattern) => subjectMatches(pattern, subject))) {
          const cause = new errors.NoRespondersError(subject);
          throw new errors.RequestError(cause.message, { cause });
        }
        nc.publishDeduplicated(subject, payload, { stream: config.name, msgId, windowMs });
        resolve();
      });
    },
  };
}
