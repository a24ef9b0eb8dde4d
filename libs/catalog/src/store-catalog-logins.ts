import { assertDatabaseName } from '#polystore/data-router';
import { deriveKey } from '#polystore/platform';
import type { DataSource, EntityManager } from 'typeorm';
import { STORE_MANIFESTS, storeManifests } from './store-manifest.js';
import type { StoreName } from './store-name.js';

/**
 * Serializes catalog migrations and the store logins' grants across processes (a PostgreSQL
 * advisory lock key): a process never grants on a table another one is creating.
 */
export const CATALOG_MIGRATION_LOCK = 7_164_201_600;

/** A store's own login to the system database, and the password it derives from its key. */
export interface StoreCatalogLogin {
  readonly username: string;
  readonly password: string;
}

/** `ps_<store>_catalog`: the name of a store's own catalog login. */
export function storeCatalogLoginName(store: StoreName): string {
  return `ps_${store}_catalog`;
}

/**
 * A store's own catalog login: its password derives from the store's key (`storeKeyOf`), so
 * every replica knows it, none stores it, and no other store can derive it. `polystore db-roles`
 * creates it; the store uses it when `SYSTEM_DB_URL` names it (see `openSystemDatabase`).
 */
export function storeCatalogLogin(store: StoreName, storeKey: Buffer): StoreCatalogLogin {
  return {
    username: storeCatalogLoginName(store),
    password: deriveKey(storeKey, 'polystore/catalog-login').toString('base64url'),
  };
}

/** A table of the system database and a privilege on it. */
export interface CatalogRight {
  readonly table: string;
  readonly privilege: 'SELECT' | 'INSERT' | 'UPDATE';
}

/**
 * What a store's catalog login may do: read `tenants`, `placements` (row-level security shows
 * it the store's own rows only) and `catalog_migrations` (to know the catalog is current), and
 * insert into and update the tables its manifest lists in `catalogWrites`. Nothing else: not the
 * API keys, the saga log, the operations or the admin audit, and no DDL.
 */
export function storeCatalogRights(store: StoreName): CatalogRight[] {
  const rights: CatalogRight[] = ['tenants', 'placements', 'catalog_migrations'].map((table) => ({
    table,
    privilege: 'SELECT',
  }));
  for (const table of STORE_MANIFESTS[store].catalogWrites)
    rights.push({ table, privilege: 'SELECT' }, { table, privilege: 'INSERT' }, { table, privilege: 'UPDATE' });
  for (const { table } of rights) assertDatabaseName(table);
  return rights;
}

/**
 * Gives each store's catalog login that exists on the server its rights in the system database
 * `db` ({@link storeCatalogRights}) on the tables that exist, and a row-level security policy on
 * `placements` that shows it only its store's rows (the table's owner and superusers are not
 * subject to it). Idempotent: grants and creates only what is missing, so the table is not
 * locked again once it is done. Run by whoever migrates the catalog, right after its migrations
 * (a store waits for its rights as well as for the migrations: `storeCatalogNotReady`), and by
 * `polystore db-roles` once it created the logins. Returns the stores whose login was found.
 */
export async function grantStoreCatalogLogins(db: DataSource): Promise<StoreName[]> {
  const logins = new Map(storeManifests().map((m) => [storeCatalogLoginName(m.name), m.name] as const));
  return db.transaction(async (manager) => {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [CATALOG_MIGRATION_LOCK]);
    const found: Array<{ rolname: string }> = await manager.query(
      'SELECT rolname FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname',
      [[...logins.keys()]],
    );
    const stores: StoreName[] = [];
    for (const { rolname } of found) {
      const store = logins.get(rolname)!;
      stores.push(store);
      await grantRights(manager, rolname, storeCatalogRights(store));
      await limitPlacements(manager, rolname, store);
    }
    return stores;
  });
}

async function grantRights(manager: EntityManager, role: string, rights: readonly CatalogRight[]): Promise<void> {
  const missing: Array<{ table: string; privilege: string }> = await manager.query(
    `SELECT r.tbl AS "table", r.priv AS privilege
       FROM unnest($2::text[], $3::text[]) AS r(tbl, priv)
      WHERE to_regclass('public.' || quote_ident(r.tbl)) IS NOT NULL
        AND NOT has_table_privilege($1::name, to_regclass('public.' || quote_ident(r.tbl)), r.priv)`,
    [role, rights.map((r) => r.table), rights.map((r) => r.privilege)],
  );
  for (const { table, privilege } of missing) {
    // Both come from storeCatalogRights (validated names, a fixed set of privileges).
    await manager.query(`GRANT ${privilege} ON TABLE public."${table}" TO "${role}"`);
  }
}

async function limitPlacements(manager: EntityManager, role: string, store: StoreName): Promise<void> {
  const [table]: Array<{ secured: boolean; has_policy: boolean }> = await manager.query(
    `SELECT c.relrowsecurity AS secured,
            EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $1) AS has_policy
       FROM pg_class c WHERE c.oid = to_regclass('public.placements')`,
    [role],
  );
  if (!table) return;
  if (!table.secured) await manager.query('ALTER TABLE public.placements ENABLE ROW LEVEL SECURITY');
  if (!table.has_policy)
    await manager.query(
      `CREATE POLICY "${role}" ON public.placements FOR SELECT TO "${role}" USING (store = '${store}')`,
    );
}

/**
 * Why a store's catalog login cannot serve yet, or null when it can: a right not granted yet (the
 * catalog not created, or `db-roles` not run), or migrations in `expected` not applied yet (an
 * upgrade's, which the gateway or a `polystore` command runs). Read as the store's login.
 */
export async function storeCatalogNotReady(
  db: DataSource,
  store: StoreName,
  expected: readonly string[],
): Promise<string | null> {
  const rights = storeCatalogRights(store);
  const denied: Array<{ table: string; privilege: string }> = await db.query(
    `SELECT r.tbl AS "table", r.priv AS privilege
       FROM unnest($1::text[], $2::text[]) AS r(tbl, priv)
      WHERE to_regclass('public.' || quote_ident(r.tbl)) IS NULL
         OR NOT has_table_privilege(to_regclass('public.' || quote_ident(r.tbl)), r.priv)`,
    [rights.map((r) => r.table), rights.map((r) => r.privilege)],
  );
  if (denied.length > 0)
    return `${denied.map((d) => `${d.privilege} on ${d.table}`).join(', ')} not granted to ${storeCatalogLoginName(store)}`;
  const applied: Array<{ name: string }> = await db.query('SELECT name FROM catalog_migrations');
  const names = new Set(applied.map((row) => row.name));
  const pending = expected.filter((name) => !names.has(name));
  return pending.length > 0 ? `catalog migrations not applied yet: ${pending.join(', ')}` : null;
}
