import { timingSafeEqual } from 'node:crypto';
import { storeKeyOf } from '#polystore/catalog';
import { deriveKey, hmacSha256, type MasterKeyring } from '#polystore/platform';
import type { ChainPoint } from './audit-chain.util.js';

/** A signed checkpoint of one tenant's audit chain, as the catalog keeps it (`audit_checkpoints`). */
export interface AuditCheckpoint extends ChainPoint {
  /** The tenant's immutable id (`tenants.id`): a checkpoint cannot be moved to another tenant. */
  readonly tenantId: string;
  readonly at: Date;
  /** The master key version whose derived key signed it. */
  readonly keyVersion: number;
  /** HMAC-SHA256 of all of the above. */
  readonly signature: Buffer;
}

/**
 * What a stored checkpoint is worth: `verified` (signed by this deployment's key), `forged` (the
 * signature does not match: written by someone without the key), `unverifiable` (signed by a
 * master key version this process is not given).
 */
export type CheckpointStatus = 'verified' | 'forged' | 'unverifiable';

const PURPOSE = 'polystore/secure/audit-checkpoint';
const FORMAT = 'polystore/audit-checkpoint/1';

/**
 * Signs and checks audit checkpoints with the **secure store's own key**, not the tenant's:
 * `HKDF(storeKeyOf(<master key version>, "secure"), "polystore/secure/audit-checkpoint")`.
 * Whoever can write the catalog (every app's login, the reliable and edge stores included) or a
 * tenant's database (its data key is stored there, wrapped) cannot make one; the gateway and
 * the CLI, which hold the master key, could. New checkpoints are signed with the current
 * version (the first listed in MASTER_KEY), which the row records; a row opens with its own
 * version as long as MASTER_KEY lists it.
 */
export class CheckpointSigner {
  private readonly keys = new Map<number, Buffer>();

  constructor(private readonly ring: MasterKeyring) {}

  /** The version new checkpoints are signed with. */
  get keyVersion(): number {
    return this.ring.current.version;
  }

  /** A checkpoint of `head` for `tenantId`, signed now with the current version. */
  sign(tenantId: string, head: ChainPoint, at: Date): AuditCheckpoint {
    const unsigned = { tenantId, seq: head.seq, hash: head.hash, at, keyVersion: this.keyVersion };
    return { ...unsigned, signature: hmacSha256(this.keyOf(this.keyVersion)!, message(unsigned)) };
  }

  /** Whether `checkpoint` was signed by this deployment, for its own tenant, unchanged. */
  check(checkpoint: AuditCheckpoint): CheckpointStatus {
    const key = this.keyOf(checkpoint.keyVersion);
    if (!key) return 'unverifiable';
    const expected = hmacSha256(key, message(checkpoint));
    return checkpoint.signature.length === expected.length && timingSafeEqual(checkpoint.signature, expected)
      ? 'verified'
      : 'forged';
  }

  private keyOf(version: number): Buffer | undefined {
    let key = this.keys.get(version);
    if (!key) {
      const master = this.ring.get(version);
      if (!master) return undefined;
      key = deriveKey(storeKeyOf(master, 'secure'), PURPOSE);
      this.keys.set(version, key);
    }
    return key;
  }
}

/** The signed bytes: every field but the signature, in a fixed order, with a format tag. */
function message(c: Omit<AuditCheckpoint, 'signature'>): string {
  return JSON.stringify([FORMAT, c.tenantId, c.seq, c.hash.toString('hex'), c.at.toISOString(), c.keyVersion]);
}
