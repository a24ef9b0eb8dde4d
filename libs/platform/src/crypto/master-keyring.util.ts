const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Highest master key version: versions are stored in a `smallint` column (`tenant_keys.kek_version`). */
export const MAX_MASTER_KEY_VERSION = 32_767;

/** One version of the master key. */
export interface MasterKeyVersion {
  /** A positive integer; a bare (unversioned) master key is version 1. */
  readonly version: number;
  /** 32 bytes. */
  readonly key: Buffer;
}

/**
 * Raised when a master key text cannot be parsed. The message says what is wrong by position and
 * version number only: it never contains key material, so it can be printed under the variable's
 * name.
 */
export class MasterKeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyringError';
  }
}

/**
 * The versions of the master key a process holds, so the key can be rotated.
 *
 * - {@link current} (the first listed) wraps every new tenant data key; the other versions only
 *   open data keys they wrapped earlier (each wrapped key records its version).
 * - {@link derivationRoot} is the key of the LOWEST listed version: the keys derived from the
 *   master key (store keys, the catalog's legacy server secret) come from
 *   it, so adding a new current version in front of the old one changes none of them. Retiring
 *   the lowest version re-derives them: that is part of a rotation, not of adding a version.
 *
 * Text form (`MASTER_KEY`): a bare base64 32-byte key (version 1), or `v2:<base64>,v1:<base64>`.
 */
export class MasterKeyring {
  /** The version that wraps new tenant data keys. */
  readonly current: MasterKeyVersion;
  /** The key every derived key (store keys, device tokens, ...) comes from: the lowest version's. */
  readonly derivationRoot: Buffer;
  private readonly keys: ReadonlyMap<number, Buffer>;

  /** `entries` in order, current first; throws {@link MasterKeyringError} when they are not a valid ring. */
  constructor(entries: readonly MasterKeyVersion[]) {
    if (entries.length === 0) throw new MasterKeyringError('holds no key');
    const keys = new Map<number, Buffer>();
    for (const { version, key } of entries) {
      if (!Number.isInteger(version) || version < 1 || version > MAX_MASTER_KEY_VERSION)
        throw new MasterKeyringError(`versions must be integers from 1 to ${MAX_MASTER_KEY_VERSION}`);
      if (key.length !== KEY_BYTES) throw new MasterKeyringError(`v${version}: the key must be ${KEY_BYTES} bytes`);
      if (keys.has(version)) throw new MasterKeyringError(`v${version} is listed twice`);
      keys.set(version, Buffer.from(key));
    }
    this.keys = keys;
    this.current = { version: entries[0]!.version, key: keys.get(entries[0]!.version)! };
    this.derivationRoot = keys.get(Math.min(...keys.keys()))!;
  }

  /** A ring of one key, version 1 (what a bare MASTER_KEY, or the development secrets file, holds). */
  static single(key: Buffer): MasterKeyring {
    return new MasterKeyring([{ version: 1, key }]);
  }

  /**
   * Parses the text form: a bare base64 32-byte key (version 1), or `v<n>:<base64>` entries
   * separated by commas, the first being current. Throws {@link MasterKeyringError} (duplicate
   * or invalid version, bad base64, wrong length) without quoting the text.
   */
  static parse(text: string): MasterKeyring {
    const trimmed = text.trim();
    // Base64 has no ':', so a colon is what tells a versioned list from a bare key.
    if (!trimmed.includes(':')) {
      const key = decodeKey(trimmed);
      if (!key)
        throw new MasterKeyringError(
          `must be ${KEY_BYTES} bytes encoded as base64, or versioned keys v<n>:<base64>, comma-separated`,
        );
      return MasterKeyring.single(key);
    }
    const entries = trimmed.split(',').map((entry, index) => parseEntry(entry.trim(), index + 1));
    return new MasterKeyring(entries);
  }

  /** Every configured version, as listed (current first). */
  get versions(): number[] {
    return [...this.keys.keys()];
  }

  /** The key of `version`, or undefined when that version is not configured. */
  get(version: number): Buffer | undefined {
    return this.keys.get(version);
  }
}

function parseEntry(entry: string, position: number): MasterKeyVersion {
  const match = /^v([^:]*):(.*)$/s.exec(entry);
  if (!match) throw new MasterKeyringError(`entry ${position} must be v<version>:<base64 key>`);
  const digits = match[1]!;
  const version = /^[1-9][0-9]{0,4}$/.test(digits) ? Number(digits) : NaN;
  if (!(version <= MAX_MASTER_KEY_VERSION))
    throw new MasterKeyringError(
      `entry ${position}: the version must be an integer from 1 to ${MAX_MASTER_KEY_VERSION}`,
    );
  const key = decodeKey(match[2]!.trim());
  if (!key) throw new MasterKeyringError(`v${version}: the key must be ${KEY_BYTES} bytes encoded as base64`);
  return { version, key };
}

function decodeKey(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length === KEY_BYTES ? key : undefined;
}
