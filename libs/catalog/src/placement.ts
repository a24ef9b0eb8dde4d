import type { DataSource } from 'typeorm';
import { HostListUrl, deriveKey, open, seal } from '#polystore/platform';
import type { TenantSlug } from '#polystore/tenancy';
import {
  assertDatabaseName,
  isTenantLogin,
  parseServerUrl,
  tlsQuery,
  type DataSourcePlacement,
  type PlacementKind,
  type ServerAddress,
} from '#polystore/data-router';
import { CatalogException } from './catalog.exception.js';
import { STORE_NAMES, type StoreName } from './store-name.js';

/** A tenant's placement for one store, resolved from the catalog (credentials unsealed). */
export interface Placement extends DataSourcePlacement {
  readonly tenant: TenantSlug;
  readonly store: StoreName;
  /** `dialect://host:port`, without credentials: safe to show and log. */
  readonly serverId: string;
}

/** The store's shared database on a PostgreSQL server: it holds the `schema` placements. */
export function sharedDatabaseName(store: StoreName): string {
  return `polystore_${store}`;
}

/** `ps_<store>_runtime`: the login of a store's shared pools (see `runtimeLogin` in libs/runtime). */
export function storeRuntimeLoginName(store: StoreName): string {
  return `ps_${store}_runtime`;
}

/**
 * Whether a server URL's user is a store's runtime login: a PostgreSQL server the store reaches
 * without a provisioning login, whose schema placements `db-roles`' functions provision (no
 * `database` or `dedicated` placement there, and no move).
 */
export function isStoreRuntimeLogin(username: string | undefined): boolean {
  return username !== undefined && STORE_NAMES.some((store) => storeRuntimeLoginName(store) === username);
}

/**
 * Whether a placement at `serverUrl` of `kind` gets a login of its own
 * (`ServerRoles.ensureTenantDatabase`): a database of its own on PostgreSQL (`database`,
 * `dedicated`), given with a login that may make one (not a store's runtime login, nor a
 * placement's own login).
 */
export function getsPlacementLogin(serverUrl: string, kind: PlacementKind): boolean {
  const address = parseServerUrl(serverUrl);
  return (
    address.dialect === 'postgres' &&
    kind !== 'schema' &&
    !isStoreRuntimeLogin(address.username) &&
    !isTenantLogin(address.username)
  );
}

/** `serverUrl` (no password) as the placement's own login `login`. */
export function asPlacementLogin(serverUrl: string, login: string): string {
  const parsed = HostListUrl.parse(serverUrl);
  parsed.url.username = login;
  parsed.url.password = '';
  return parsed.toString();
}

/** Every placement database of `store` (and its schemas on PostgreSQL) is named with this prefix. */
export function placementDatabasePrefix(store: StoreName): string {
  return `ps_${store}_`;
}

/**
 * Names of a new placement, derived from the tenant's immutable id (never from its slug, so a
 * slug can be reused without meeting old data): `ps_<store>_<id hex>` is the tenant's schema (and
 * role) inside `polystore_<store>` for a `schema` placement, its database otherwise.
 */
export function placementNames(
  store: StoreName,
  tenantId: string,
  kind: PlacementKind,
): { database: string; schema?: string } {
  const hex = tenantId.toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw CatalogException.invalidPlacement('tenant id must be a UUID');
  const own = `${placementDatabasePrefix(store)}${hex}`;
  assertDatabaseName(own);
  return kind === 'schema' ? { database: sharedDatabaseName(store), schema: own } : { database: own };
}

/**
 * The kind a new placement gets when the operator does not choose: a schema on PostgreSQL, a
 * database of its own on MySQL/MariaDB and MongoDB.
 */
export function defaultPlacementKind(serverUrl: string): PlacementKind {
  return parseServerUrl(serverUrl).dialect === 'postgres' ? 'schema' : 'database';
}

/**
 * Key of the system-database advisory lock (`pg_advisory_lock(hashtext(key))`) that serializes
 * everything that creates, drops or moves one tenant's database in one store.
 */
export function placementLockKey(store: StoreName, tenant: TenantSlug): string {
  return `polystore:provision:${store}:${tenant}`;
}

/**
 * Runs `work` holding the (store, tenant) placement lock in the system database `db`. The lock
 * pins one connection of `db`'s pool until `work` settles.
 */
export async function withPlacementLock<T>(
  db: DataSource,
  store: StoreName,
  tenant: TenantSlug,
  work: () => Promise<T>,
): Promise<T> {
  const runner = db.createQueryRunner();
  const key = placementLockKey(store, tenant);
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    return await work();
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
    await runner.release();
  }
}

/** A server URL split for storage: the URL without its password, and the password apart. */
export interface StoredServer {
  readonly serverUrl: string;
  readonly password?: string;
}

/**
 * Validates a server URL and takes its password out (it is stored sealed, never in clear). Its
 * TLS parameters are kept, in their canonical form (`?sslmode=...&sslrootcert=...`), so a
 * placement on a TLS server stays TLS; a bad or unknown parameter is refused, naming it.
 */
export function splitServerUrl(serverUrl: string): StoredServer {
  let address: ServerAddress;
  try {
    address = parseServerUrl(serverUrl);
  } catch (error) {
    // The parameter's name is safe to show (never a value of the URL); anything else gets the generic hint.
    const reason = error instanceof Error ? error.message : '';
    throw CatalogException.invalidPlacement(
      reason.includes('server URL parameter')
        ? reason.replace(/^invalid placement: /, '')
        : 'server URL must be postgres://, mysql://, mariadb:// or mongodb://host[:port]',
    );
  }
  const parsed = HostListUrl.parse(serverUrl);
  const { url } = parsed;
  if (url.pathname && url.pathname !== '/') {
    throw CatalogException.invalidPlacement('server URL must not name a database');
  }
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  url.password = '';
  url.pathname = '';
  url.search = tlsQuery(address.tls);
  url.hash = '';
  const stored = parsed.toString();
  return password === undefined ? { serverUrl: stored } : { serverUrl: stored, password };
}

/** Puts a stored password back into a server URL (in memory only, to connect). */
export function joinServerUrl(serverUrl: string, password: string | undefined): string {
  if (password === undefined) return serverUrl;
  const parsed = HostListUrl.parse(serverUrl);
  parsed.url.password = encodeURIComponent(password);
  return parsed.toString();
}

/**
 * A store's own key: everything a store process needs to reach its data (the passwords of its
 * placements' servers, its runtime login) derives from it, and nothing else does. The secure store
 * and the operators' tools (gateway, CLI) derive it from the master key; the other stores are
 * given only theirs (`STORE_KEY`), so they hold no key that opens another store's servers or
 * decrypts PII.
 */
export function storeKeyOf(masterKey: Buffer, store: string): Buffer {
  return deriveKey(masterKey, `polystore/store-key/${store}`);
}

/** The keys a process holds for placements' server passwords. */
export interface PlacementKeys {
  /** Derives every store's key (operators' processes and the secure store). */
  readonly masterKey?: Buffer;
  /** Store keys held without the master key (a store process holds its own). */
  readonly storeKeys?: Readonly<Partial<Record<string, Buffer>>>;
}

/**
 * Seals and opens server passwords, each with a key of its store ({@link storeKeyOf}), so a
 * store can open only its own placements'. Passwords sealed before store keys (with a key derived
 * from the master key itself) still open where the master key is held; `resealLegacy` moves them.
 */
export class ServerSecretBox {
  private readonly legacyKey?: Buffer;

  constructor(private readonly keys: PlacementKeys) {
    if (keys.masterKey) this.legacyKey = deriveKey(keys.masterKey, 'polystore/catalog/server-secret');
  }

  seal(password: string, tenantId: string, store: string): Buffer {
    return seal(this.keyOf(store), password, `placement:${tenantId}:${store}`);
  }

  /** The password `sealed` holds; `PLACEMENT_SECRET_UNREADABLE` (503) when no key of this process opens it. */
  open(sealed: Buffer, tenantId: string, store: string): string {
    const context = `placement:${tenantId}:${store}`;
    const key = this.keyOf(store); // NO_STORE_KEY when this process holds none for the store
    for (const candidate of this.legacyKey ? [key, this.legacyKey] : [key]) {
      try {
        return open(candidate, sealed, context).toString('utf8');
      } catch {
        // the next key, if any
      }
    }
    throw CatalogException.secretUnreadable(store);
  }

  /** True when `sealed` opens only with the pre-store-key master-derived key (it should be sealed again). */
  isLegacy(sealed: Buffer, tenantId: string, store: string): boolean {
    try {
      open(this.keyOf(store), sealed, `placement:${tenantId}:${store}`);
      return false;
    } catch {
      return this.legacyKey !== undefined;
    }
  }

  /**
   * The password of a placement's own login (`<database>_login`, a `database` or `dedicated`
   * placement on PostgreSQL), derived from the store's key: the same at every retry of a
   * provisioning, distinct per placement, and stored nowhere (as the runtime logins' passwords):
   * the store derives it when it opens the placement.
   */
  placementLoginPassword(store: string, login: string): string {
    return deriveKey(this.storeKey(store), `polystore/placement-login/${login}`).toString('base64url');
  }

  /** For a stored server URL naming a placement's own login, that login's password; otherwise none. */
  derivedLoginPassword(store: string, serverUrl: string): string | undefined {
    const { username } = parseServerUrl(serverUrl);
    return isTenantLogin(username) ? this.placementLoginPassword(store, username!) : undefined;
  }

  /**
   * Seals the password of the provisioning login that made a placement's own login (kept in
   * `placement_provisioners`, which no store may read), with a key derived from the master key:
   * only the operators' processes (gateway, CLI) hold it.
   */
  sealProvisioner(password: string, tenantId: string, store: string): Buffer {
    return seal(this.provisionerKey(), password, `provisioner:${tenantId}:${store}`);
  }

  openProvisioner(sealed: Buffer, tenantId: string, store: string): string {
    return open(this.provisionerKey(), sealed, `provisioner:${tenantId}:${store}`).toString('utf8');
  }

  private provisionerKey(): Buffer {
    if (!this.keys.masterKey) throw CatalogException.noStoreKey('provisioning');
    return deriveKey(this.keys.masterKey, 'polystore/catalog/provisioner-secret');
  }

  private storeKey(store: string): Buffer {
    const storeKey =
      this.keys.storeKeys?.[store] ?? (this.keys.masterKey ? storeKeyOf(this.keys.masterKey, store) : undefined);
    if (!storeKey) throw CatalogException.noStoreKey(store);
    return storeKey;
  }

  private keyOf(store: string): Buffer {
    return deriveKey(this.storeKey(store), 'polystore/catalog/server-secret');
  }
}
