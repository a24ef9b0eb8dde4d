import { hmacSha256 } from '#polystore/platform';

/** The fields of an audit record that the chain protects. */
export interface AuditRecord {
  readonly seq: number;
  readonly at: Date;
  readonly action: string;
  readonly subjectId: string | null;
  readonly actor: string | null;
  readonly correlationId: string;
  readonly outcome: string;
}

/** `HMAC(key, prevHash || canonical(record))`: the link of one record to everything before it. */
export function chainHash(key: Buffer, prevHash: Buffer, record: AuditRecord): Buffer {
  const canonical = JSON.stringify([
    record.seq,
    record.at.toISOString(),
    record.action,
    record.subjectId,
    record.actor,
    record.correlationId,
    record.outcome,
  ]);
  return hmacSha256(key, Buffer.concat([prevHash, Buffer.from(canonical, 'utf8')]));
}

/** Hash before the first record. */
export const GENESIS_HASH = Buffer.alloc(32);

/** A point of the chain: the record `seq` and its hash (what a checkpoint signs). */
export interface ChainPoint {
  readonly seq: number;
  readonly hash: Buffer;
}

/** The outcome of checking a chain. */
export interface ChainVerdict {
  readonly valid: boolean;
  /** Records whose hash was recomputed and found right. */
  readonly checked: number;
  readonly firstInvalidSeq: number | null;
  readonly reason: string | null;
  /** First and last record checked (null when none was). */
  readonly fromSeq: number | null;
  readonly toSeq: number | null;
}

/** How a {@link ChainVerifier} starts. */
export interface ChainVerifierOptions {
  /**
   * A signed checkpoint of this chain: the record at its `seq` must have its `hash` (`checkpoint
   * mismatch` otherwise), wherever the walk starts.
   */
  readonly checkpoint?: ChainPoint;
  /**
   * Start at the checkpoint's record instead of the first one: that record is checked against
   * its own `prev_hash` and the checkpoint's hash (everything before it is vouched for by the
   * checkpoint), then the chain from there on.
   */
  readonly fromCheckpoint?: boolean;
}

/**
 * Checks records in `seq` order, batch by batch; keeps the running state between batches, so a
 * chain of any length is checked in the memory of one batch.
 */
export class ChainVerifier {
  private expectedSeq: number;
  /** Hash the next record must link to; null for the first record of a walk from a checkpoint. */
  private prevHash: Buffer | null;
  private checked = 0;
  private fromSeq: number | null = null;
  private failure: { seq: number; reason: string } | null = null;
  private readonly checkpoint: ChainPoint | undefined;

  constructor(
    private readonly key: Buffer,
    options: ChainVerifierOptions = {},
  ) {
    this.checkpoint = options.checkpoint;
    const start = options.fromCheckpoint ? options.checkpoint : undefined;
    this.expectedSeq = start ? start.seq : 1;
    this.prevHash = start ? null : GENESIS_HASH;
  }

  /** The `seq` the next record must have. */
  get nextSeq(): number {
    return this.expectedSeq;
  }

  /** Feeds the next records; returns false once the chain is known to be broken. */
  feed(records: ReadonlyArray<AuditRecord & { prevHash: Buffer; hash: Buffer }>): boolean {
    for (const record of records) {
      if (this.failure) return false;
      if (record.seq !== this.expectedSeq) return this.fail(this.expectedSeq, 'record missing');
      if (this.prevHash && !record.prevHash.equals(this.prevHash)) return this.fail(record.seq, 'broken link');
      if (!chainHash(this.key, record.prevHash, record).equals(record.hash))
        return this.fail(record.seq, 'record modified');
      if (record.seq === this.checkpoint?.seq && !record.hash.equals(this.checkpoint.hash))
        return this.fail(record.seq, 'checkpoint mismatch');
      this.prevHash = record.hash;
      this.fromSeq ??= record.seq;
      this.expectedSeq++;
      this.checked++;
    }
    return true;
  }

  /**
   * Compares the end of the chain with the stored head (detects a deleted last record while the
   * head still names it). Truncation below a checkpoint with the head moved back is the caller's
   * to report: it needs the last stored `seq`.
   */
  finish(head: ChainPoint): ChainVerdict {
    if (!this.failure) {
      if (this.prevHash === null) this.fail(this.expectedSeq, 'record missing');
      else if (head.seq !== this.expectedSeq - 1) this.fail(Math.min(head.seq, this.expectedSeq), 'record missing');
      else if (!head.hash.equals(this.prevHash)) this.fail(head.seq, 'head mismatch');
    }
    const range = { fromSeq: this.fromSeq, toSeq: this.fromSeq === null ? null : this.expectedSeq - 1 };
    return this.failure
      ? {
          valid: false,
          checked: this.checked,
          firstInvalidSeq: this.failure.seq,
          reason: this.failure.reason,
          ...range,
        }
      : { valid: true, checked: this.checked, firstInvalidSeq: null, reason: null, ...range };
  }

  private fail(seq: number, reason: string): false {
    this.failure = { seq, reason };
    return false;
  }
}
