import { describe, expect, it } from '@jest/globals';
import { MasterKeyring, randomKey } from '#polystore/platform';
import { CheckpointSigner } from '../src/audit/audit-checkpoint.util.js';

const v1 = Buffer.alloc(32, 1);
const v2 = Buffer.alloc(32, 2);
const tenantId = '4f6c1a52-9a43-4d5e-8a57-0c4e0f0f2a11';
const head = { seq: 42, hash: randomKey() };
const at = new Date('2026-12-07T10:00:00.123Z');

describe('secure-store - audit checkpoint signatures', () => {
  it('a checkpoint verifies as signed, and any changed field (tenant, seq, hash, time, version) does not', () => {
    const signer = new CheckpointSigner(MasterKeyring.single(v1));
    const signed = signer.sign(tenantId, head, at);
    expect(signed).toMatchObject({ tenantId, seq: 42, keyVersion: 1 });
    expect(signer.check(signed)).toBe('verified');
    for (const changed of [
      { tenantId: '4f6c1a52-9a43-4d5e-8a57-0c4e0f0f2a12' },
      { seq: 41 },
      { hash: randomKey() },
      { at: new Date(at.getTime() + 1) },
      { signature: randomKey() },
    ])
      expect(signer.check({ ...signed, ...changed })).toBe('forged');
  });

  it('is signed with the current master key version; older listed versions still verify; an unlisted one is unverifiable', () => {
    const old = new CheckpointSigner(MasterKeyring.single(v1)).sign(tenantId, head, at);
    const rotated = new CheckpointSigner(
      new MasterKeyring([
        { version: 2, key: v2 },
        { version: 1, key: v1 },
      ]),
    );
    expect(rotated.check(old)).toBe('verified');
    const fresh = rotated.sign(tenantId, head, at);
    expect(fresh.keyVersion).toBe(2);
    expect(rotated.check({ ...fresh, keyVersion: 1 })).toBe('forged');
    const onlyV2 = new CheckpointSigner(new MasterKeyring([{ version: 2, key: v2 }]));
    expect(onlyV2.check(fresh)).toBe('verified');
    expect(onlyV2.check(old)).toBe('unverifiable');
  });

  it("another deployment's master key does not verify it", () => {
    const signed = new CheckpointSigner(MasterKeyring.single(v1)).sign(tenantId, head, at);
    expect(new CheckpointSigner(MasterKeyring.single(v2)).check(signed)).toBe('forged');
  });
});
