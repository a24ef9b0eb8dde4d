import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { Codec } from '@nats-io/nkeys/lib/codec.js';
import { Prefix } from '@nats-io/nkeys';

/** The roles of the NATS keys Polystore uses. */
export type NKeyRole = 'operator' | 'account' | 'user';

const PREFIXES: Record<NKeyRole, Prefix> = {
  operator: Prefix.Operator,
  account: Prefix.Account,
  user: Prefix.User,
};

/** PKCS#8 DER header of an Ed25519 private key, followed by the 32-byte seed. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER header of an Ed25519 public key, followed by the 32-byte key. */
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * An NATS nkey (Ed25519) whose signatures are made by `node:crypto`: the nkeys encoding
 * (base32 with a role prefix and a CRC16) comes from `@nats-io/nkeys`, the cryptography from
 * OpenSSL, which signs about 200 times faster here than the library's pure-JS tweetnacl.
 */
export class NKey {
  private constructor(
    readonly role: NKeyRole,
    private readonly rawSeed: Buffer,
    private readonly privateKey: KeyObject,
    /** The public key, nkeys-encoded (`O…`, `A…`, `U…`): what JWTs name as subject and issuer. */
    readonly publicKey: string,
  ) {}

  /** The key whose Ed25519 seed is `seed` (32 bytes). */
  static fromRawSeed(role: NKeyRole, seed: Buffer): NKey {
    if (seed.length !== 32) throw new Error('an nkey seed is 32 bytes');
    const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
    const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519.length);
    const publicKey = Buffer.from(Codec.encode(PREFIXES[role], raw)).toString('ascii');
    return new NKey(role, Buffer.from(seed), privateKey, publicKey);
  }

  /** The seed, nkeys-encoded (`SO…`, `SA…`, `SU…`): what a `.creds` file or a server config holds. */
  get seed(): string {
    return Buffer.from(Codec.encodeSeed(PREFIXES[this.role], this.rawSeed)).toString('ascii');
  }

  sign(data: Buffer | string): Buffer {
    return sign(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, this.privateKey);
  }

  /**
   * Whether `signature` over `data` was made by the key whose nkeys-encoded public key is
   * `publicKey`. Verifiers are few (the issuers a caller trusts): their decoded keys are kept.
   */
  static verify(publicKey: string, data: Buffer | string, signature: Buffer): boolean {
    let key = VERIFIERS.get(publicKey);
    if (!key) {
      let raw: Uint8Array;
      try {
        raw = Codec.decode(prefixOf(publicKey), Buffer.from(publicKey, 'ascii'));
      } catch {
        return false;
      }
      key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(raw)]), format: 'der', type: 'spki' });
      if (VERIFIERS.size >= 1_000) VERIFIERS.clear();
      VERIFIERS.set(publicKey, key);
    }
    return verify(null, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, key, signature);
  }
}

const VERIFIERS = new Map<string, KeyObject>();

function prefixOf(publicKey: string): Prefix {
  switch (publicKey.charAt(0)) {
    case 'O':
      return Prefix.Operator;
    case 'A':
      return Prefix.Account;
    case 'U':
      return Prefix.User;
    default:
      throw new Error('not an operator, account or user public key');
  }
}
