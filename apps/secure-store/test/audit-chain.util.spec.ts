import { describe, expect, it } from '@jest/globals';
import { randomKey } from '#polystore/platform';
import { ChainVerifier, GENESIS_HASH, chainHash, type AuditRecord } from '../src/audit/audit-chain.util.js';

function chain(key: Buffer, n: number) {
  let prev: Buffer = GENESIS_HASH;
  const rows: Array<AuditRecord & { prevHash: Buffer; hash: Buffer }> = [];
  for (let seq = 1; seq <= n; seq++) {
    const record: AuditRecord = {
      seq,
      at: new Date(1_700_000_000_000 + seq),
      action: 'customer.read',
      subjectId: null,
      actor: 'k',
      correlationId: `c${seq}`,
      outcome: 'ok',
    };
    const hash = chainHash(key, prev, record);
    rows.push({ ...record, prevHash: prev, hash });
    prev = hash;
  }
  return { rows, head: { seq: n, hash: prev } };
}

function verify(key: Buffer, rows: ReturnType<typeof chain>['rows'], head: { seq: number; hash: Buffer }) {
  const verifier = new ChainVerifier(key);
  verifier.feed(rows.slice(0, 3));
  verifier.feed(rows.slice(3));
  return verifier.finish(head);
}

describe('secure-store - audit hash chain', () => {
  const key = randomKey();

  it('an intact chain verifies, across batches', () => {
    const { rows, head } = chain(key, 7);
    expect(verify(key, rows, head)).toEqual({
      valid: true,
      checked: 7,
      firstInvalidSeq: null,
      reason: null,
      fromSeq: 1,
      toSeq: 7,
    });
  });

  it('a modified field is detected at its record', () => {
    const { rows, head } = chain(key, 7);
    rows[4] = { ...rows[4]!, outcome: 'not_found' };
    expect(verify(key, rows, head)).toMatchObject({ valid: false, firstInvalidSeq: 5, reason: 'record modified' });
  });

  it('a deleted record is detected where the gap starts', () => {
    const { rows, head } = chain(key, 7);
    rows.splice(2, 1);
    expect(verify(key, rows, head)).toMatchObject({ valid: false, firstInvalidSeq: 3, reason: 'record missing' });
  });

  it('a deleted last record is detected against the head', () => {
    const { rows, head } = chain(key, 7);
    rows.pop();
    expect(verify(key, rows, head)).toMatchObject({ valid: false, reason: 'record missing' });
  });

  it('a rewritten record with a recomputed hash fails without the key', () => {
    const { rows, head } = chain(key, 3);
    const forged = { ...rows[1]!, outcome: 'forged' };
    forged.hash = chainHash(randomKey(), forged.prevHash, forged);
    rows[1] = forged;
    expect(verify(key, rows, head)).toMatchObject({ valid: false, firstInvalidSeq: 2 });
  });

  describe('from a checkpoint', () => {
    it('starts at the checkpoint record, checks it against its own link and the signed hash, then the rest', () => {
      const { rows, head } = chain(key, 9);
      const checkpoint = { seq: 6, hash: rows[5]!.hash };
      const verifier = new ChainVerifier(key, { checkpoint, fromCheckpoint: true });
      expect(verifier.nextSeq).toBe(6);
      verifier.feed(rows.slice(5));
      expect(verifier.finish(head)).toEqual({
        valid: true,
        checked: 4,
        firstInvalidSeq: null,
        reason: null,
        fromSeq: 6,
        toSeq: 9,
      });
    });

    it('a record at the checkpoint seq that is not the one signed is a checkpoint mismatch, in either walk', () => {
      const { rows, head } = chain(key, 9);
      const checkpoint = { seq: 6, hash: randomKey() };
      for (const fromCheckpoint of [true, false]) {
        const verifier = new ChainVerifier(key, { checkpoint, fromCheckpoint });
        verifier.feed(fromCheckpoint ? rows.slice(5) : rows);
        expect(verifier.finish(head)).toMatchObject({
          valid: false,
          firstInvalidSeq: 6,
          reason: 'checkpoint mismatch',
        });
      }
    });

    it('no record at the checkpoint seq is a missing record, even if the head was moved back to just below it', () => {
      const { rows } = chain(key, 9);
      const verifier = new ChainVerifier(key, { checkpoint: { seq: 6, hash: rows[5]!.hash }, fromCheckpoint: true });
      verifier.feed([]);
      expect(verifier.finish({ seq: 5, hash: rows[4]!.hash })).toMatchObject({
        valid: false,
        firstInvalidSeq: 6,
        reason: 'record missing',
      });
    });
  });
});
