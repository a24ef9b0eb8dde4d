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

/** The outcome of checking a chain. */
export interface ChainVerdict {
  readonly valid: boolean;
  readonly checked: number;
  readonly firstInvalidSeq: number | null;
  readonly reason: string | null;
}

/** Checks records in `seq` order, batch by batch; keeps the running state between batches. */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash: Buffer = GENESIS_HASH;
  private checked = 0;
  private failure: { seq: number; reason: string } | null = null;

  constructor(private readonly key: Buffer) {}

  /** Feeds the next records; returns false once the chain is known to be broken. */
  feed(records: ReadonlyArray<AuditRecord & { prevHash: Buffer; hash: Buffer }>): boolean {
    for (const record of records) {
      if (this.failure) return false;
      if (record.seq !== this.expectedSeq) return this.fail(this.expectedSeq, 'record missing');
      if (!record.prevHash.equals(this.prevHash)) return this.fail(record.seq, 'broken link');
      if (!chainHash(this.key, this.prevHash, record).equals(record.hash))
        return this.fail(record.seq, 'record modified');
      this.prevHash = record.hash;
      this.expectedSeq++;
      this.checked++;
    }
    return true;
  }

  /** Compares the end of the chain with the stored head (detects a deleted last record). */
  finish(head: { seq: number; hash: Buffer }): ChainVerdict {
    if (!this.failure) {
      if (head.seq !== this.expectedSeq - 1) this.fail(Math.min(head.seq, this.expectedSeq), 'record missing');
      else if (!head.hash.equals(this.prevHash)) this.fail(head.seq, 'head mismatch');
    }
    return this.failure
      ? { valid: false, checked: this.checked, firstInvalidSeq: this.failure.seq, reason: this.failure.reason }
      : { valid: true, checked: this.checked, firstInvalidSeq: null, reason: null };
  }

  private fail(seq: number, reason: string): false {
    this.failure = { seq, reason };
    return false;
  }
}
