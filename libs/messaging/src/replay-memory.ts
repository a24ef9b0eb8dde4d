import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjectFor } from './contract.js';
import { InProcessNats } from './in-process-nats.js';

/**
 * What the replicas of one store service have run, shared by all of them: each command's
 * signature is claimed here before the command runs, so a copy of it delivered to any replica,
 * before or after a restart of either, is refused.
 */
export interface ReplayMemory {
  /**
   * True the first time `signature` is claimed within the window, by any replica; false for
   * every later claim. Rejects when the memory cannot be reached within `timeoutMs` (default 5 s):
   * the command must then not run.
   */
  claim(signature: string, timeoutMs?: number): Promise<boolean>;
}

export interface ReplayMemoryConfig {
  /** The store service (its queue group): `secure-store`. */
  readonly service: string;
  /** Deployment prefix of the subjects (NATS_SUBJECT_PREFIX). */
  readonly subjectPrefix: string;
  /** How long a claim is remembered: at least the longest a signature lives, clock skew included. */
  readonly windowMs: number;
}

/**
 * The JetStream stream that holds a service's claims, one for every deployment prefix on the bus
 * (signatures cover the subject, so prefixes cannot collide): a fixed name the bus permissions can
 * name exactly (`busPermissions`).
 */
export function replayStreamName(service: string): string {
  return `POLYSTORE_REPLAY_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The subject a service's claims are published on (below the deployment prefix). */
export function replaySubject(service: string): string {
  return `replay.${service}`;
}

/**
 * Opens the replay memory of `config.service` on `nc`.
 *
 * On NATS it is a JetStream stream whose message-id deduplication does the work: a claim is an
 * empty message published with the signature as its id, and JetStream answers `duplicate` to a
 * second publish of one id within the stream's duplicate window. The server decides, so two
 * replicas claiming one signature at once cannot both win; the stream is on file, and the server
 * rebuilds its window from it after a restart. The stream is created (or updated) at the first
 * claim, and again after a failed one, so a store starts while JetStream is down and its
 * commands are refused (not run unguarded) until it is back.
 *
 * On an {@link InProcessNats} connection (the quickstart: one process, so one replica) the
 * in-process server's message-id window does the same.
 */
export function openReplayMemory(nc: NatsConnection, config: ReplayMemoryConfig): ReplayMemory {
  const subject = subjectFor(config.subjectPrefix, replaySubject(config.service));
  const stream = replayStreamName(config.service);
  if (nc instanceof InProcessNats) {
    return {
      claim: (signature) =>
        Promise.resolve(
          nc.publishDeduplicated(subject, new Uint8Array(0), { stream, msgId: signature, windowMs: config.windowMs }),
        ),
    };
  }
  let client: Promise<JetStreamClient> | undefined;
  const open = async (): Promise<JetStreamClient> => {
    // checkAPI off: the stores may call this stream's API and nothing else (not even $JS.API.INFO).
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const windowNs = config.windowMs * 1_000_000;
    const settings = {
      name: stream,
      subjects: [`*.${replaySubject(config.service)}`],
      duplicate_window: windowNs,
      max_age: windowNs,
    };
    await jsm.streams.add(settings).catch(async () => jsm.streams.update(stream, settings));
    return jetstream(nc, { checkAPI: false });
  };
  return {
    async claim(signature, timeoutMs = 5_000) {
      client ??= open();
      try {
        const ack = await (await client).publish(subject, new Uint8Array(0), { msgID: signature, timeout: timeoutMs });
        return !ack.duplicate;
      } catch (error) {
        client = undefined;
        throw error;
      }
    },
  };
}
