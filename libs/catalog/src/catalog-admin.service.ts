import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CrashPoints } from '#polystore/platform';
import type { TenantSlug } from '#polystore/tenancy';
import {
  assertDatabaseName,
  isTenantLogin,
  parseServerUrl,
  ServerRoles,
  sqlStateOf,
  tenantLoginName,
  type PlacementKind,
  type ServerLogin,
} from '#polystore/data-router';
import { DataSource, IsNull, Not, type EntityManager } from 'typeorm';
import { CatalogException } from './catalog.exception.js';
import type { TenantRecord } from './catalog.records.js';
import { CatalogService } from './catalog.service.js';
import { CATALOG_OPTIONS, SYSTEM_DATA_SOURCE, type CatalogOptions } from './catalog.tokens.js';
import { PlacementEntity } from './entities/placement.entity.js';
import { TenantEntity, type TenantStatus } from './entities/tenant.entity.js';
import {
  asPlacementLogin,
  getsPlacementLogin,
  isStoreRuntimeLogin,
  joinServerUrl,
  ServerSecretBox,
  splitServerUrl,
  withPlacementLock,
} from './placement.js';
import type { StoreName } from './store-name.js';

/** What to create for one store when a tenant is created. */
export interface PlacementSpec {
  readonly store: StoreName;
  /** Server URL; a password in it is sealed, never stored in clear. */
  readonly serverUrl: string;
  readonly kind: PlacementKind;
  readonly database: string;
  /** `schema` placements only. */
  readonly schema?: string;
  /**
   * The server's password sealed with the store's key for this tenant (base64), when
   * `serverUrl` carries none: how a spec is kept where it is written down (the provisioning
   * saga's input in the saga log), so no password is stored in clear. See {@link CatalogAdminService.sealedSpec}.
   */
  readonly sealedPassword?: string;
}

/** How a placement sits on its server: its kind and names. */
export interface PlacementLayout {
  readonly kind: PlacementKind;
  readonly database: string;
  /** `schema` placements only. */
  readonly schema?: string;
}

/** A placement as shown to operators: no credentials. */
export interface PlacementView {
  readonly store: string;
  readonly kind: PlacementKind;
  readonly server: string;
  readonly database: string;
  readonly schema?: string;
  readonly version: number;
}

/** A tenant with its placements, as listed to operators. */
export interface TenantView extends TenantRecord {
  /** `deleted` tenants: the slug they had, and when their data goes. */
  readonly formerSlug: string | null;
  readonly purgeAfter: Date | null;
  readonly placements: readonly PlacementView[];
}

const UNIQUE_VIOLATION = '23505';

/** Crash point (tests): the tenant and its placements committed, their own logins not made yet. */
export const CATALOG_CREATE_AFTER_COMMIT = 'catalog.tenants.create.after-commit';

/**
 * Write side of the catalog (gateway admin API and CLI). Every change is committed, then
 * announced with `catalog.tenant.changed` so every process drops its cached view at once.
 */
@Injectable()
export class CatalogAdminService {
  private readonly secrets: ServerSecretBox;

  constructor(
    @Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource,
    @Inject(CATALOG_OPTIONS) options: CatalogOptions,
    private readonly catalog: CatalogService,
  ) {
    this.secrets = new ServerSecretBox(options.keys);
  }

  /**
   * `spec` with its server password taken out of the URL and sealed with the store's key for
   * `tenantId` (the sealing the catalog stores): safe to write down, and {@link createTenant}
   * takes it as is.
   */
  sealedSpec(tenantId: string, spec: PlacementSpec): PlacementSpec {
    const { serverUrl, password } = splitServerUrl(spec.serverUrl);
    const { sealedPassword: _earlier, ...rest } = spec;
    const sealedPassword =
      password === undefined
        ? spec.sealedPassword
        : this.secrets.seal(password, tenantId, spec.store).toString('base64');
    return { ...rest, serverUrl, ...(sealedPassword === undefined ? {} : { sealedPassword }) };
  }

  /** Registers a tenant in `provisioning` state with its placements; `TENANT_EXISTS` if the slug is taken. */
  async createTenant(input: {
    id?: string;
    slug: TenantSlug;
    name: string;
    placements: readonly PlacementSpec[];
  }): Promise<TenantRecord> {
    const id = input.id ?? randomUUID();
    try {
      await this.db.transaction(async (manager) => {
        await manager.insert(TenantEntity, {
          id,
          slug: input.slug,
          name: input.name,
          status: 'provisioning',
          version: 1,
          keyLabel: id,
        });
        for (const spec of input.placements) await this.insertPlacement(manager, id, spec);
      });
    } catch (error) {
      if (sqlStateOf(error) === UNIQUE_VIOLATION) throw CatalogException.tenantExists(input.slug);
      throw error;
    }
    CrashPoints.hit(CATALOG_CREATE_AFTER_COMMIT);
    await this.ensurePlacementLogins(id);
    this.changed(input.slug);
    return (await this.catalog.findTenant(input.slug))!;
  }

  /**
   * Makes sure of the own login and database of each of the tenant's placements that has one
   * (`database` and `dedicated` placements on PostgreSQL: {@link getsPlacementLogin}), as the
   * provisioning login that the catalog keeps for it. Idempotent (the login's password derives
   * from the store's key): a provisioning retried after a crash calls it again.
   */
  async ensurePlacementLogins(tenantId: string): Promise<void> {
    for (const own of await this.placementLogins(tenantId))
      await ServerRoles.ensureTenantDatabase(own.provisionerUrl, own.database, own.login);
  }

  /**
   * Drops the own login and database of each of the tenant's placements that has one, as the
   * provisioning login that made it (after the stores dropped their data: what is left, if
   * anything). Part of removing the tenant from the catalog; a server that cannot be reached fails
   * it, to be retried, rather than leave a login behind.
   */
  async dropPlacementLogins(tenantId: string): Promise<void> {
    for (const own of await this.placementLogins(tenantId))
      await ServerRoles.dropTenantDatabase(own.provisionerUrl, own.database);
  }

  /**
   * The `database` and `dedicated` placements on PostgreSQL recorded before placements had logins
   * of their own: their store still reaches them with the provisioning login. `slugs`: only those
   * tenants' (default: all).
   */
  async legacyPlacementLogins(slugs?: readonly TenantSlug[]): Promise<Array<{ slug: TenantSlug; store: StoreName }>> {
    const rows = await this.db.query<
      Array<{ slug: string; store: StoreName; server_url: string; kind: PlacementKind }>
    >(
      `SELECT t.slug, p.store, p.server_url, p.kind FROM placements p JOIN tenants t ON t.id = p.tenant_id
        WHERE p.kind <> 'schema' AND ($1::text[] IS NULL OR t.slug = ANY($1)) ORDER BY t.slug, p.store`,
      [slugs ?? null],
    );
    return rows
      .filter((row) => getsPlacementLogin(row.server_url, row.kind))
      .map((row) => ({ slug: row.slug as TenantSlug, store: row.store }));
  }

  /**
   * Gives each placement of {@link legacyPlacementLogins} the login it would get today, in place
   * (`polystore tenants adopt-logins`): its login made and handed the database and everything in
   * it (`ServerRoles.adoptTenantDatabase`, as the provisioning login recorded for it), then the
   * placement recorded with that login and the provisioning login kept apart, as for a new one,
   * its version raised so every store replica opens it anew. Under the placement's lock, so no
   * move or provisioning of the same database runs meanwhile; a placement changed since it was
   * read is left for the next run. Idempotent: what failed is reported and can be run again.
   * `slugs`: only those tenants' placements (default: all).
   */
  async adoptPlacementLogins(slugs?: readonly TenantSlug[]): Promise<{
    adopted: Array<{ slug: TenantSlug; store: StoreName; objects: number }>;
    failed: Array<{ slug: TenantSlug; store: StoreName; code: string; message: string }>;
  }> {
    const adopted: Array<{ slug: TenantSlug; store: StoreName; objects: number }> = [];
    const failed: Array<{ slug: TenantSlug; store: StoreName; code: string; message: string }> = [];
    for (const { slug, store } of await this.legacyPlacementLogins(slugs)) {
      try {
        const objects = await this.withPlacementLock(slug, store, () => this.adoptPlacementLogin(slug, store));
        if (objects !== null) adopted.push({ slug, store, objects });
      } catch (error) {
        const { code, message } = error as { code?: string; message?: string };
        failed.push({ slug, store, code: code ?? 'ERROR', message: message ?? String(error) });
      }
    }
    return { adopted, failed };
  }

  /** One placement of {@link adoptPlacementLogins}; null when it no longer needs it. */
  private async adoptPlacementLogin(slug: TenantSlug, store: StoreName): Promise<number | null> {
    const tenant = await this.db.getRepository(TenantEntity).findOneBy({ slug });
    const placement =
      tenant && (await this.db.getRepository(PlacementEntity).findOneBy({ tenantId: tenant.id, store }));
    if (!tenant || !placement || !getsPlacementLogin(placement.serverUrl, placement.kind)) return null;
    const password =
      placement.serverSecret === null ? undefined : this.secrets.open(placement.serverSecret, tenant.id, store);
    const login = this.placementLogin(store, placement.databaseName);
    const objects = await ServerRoles.adoptTenantDatabase(
      joinServerUrl(placement.serverUrl, password),
      placement.databaseName,
      login,
    );
    const recorded = this.recordedServer(
      tenant.id,
      store,
      placement.serverUrl,
      password,
      placement.kind,
      placement.databaseName,
    );
    await this.db.transaction(async (manager) => {
      const result = await manager.update(
        PlacementEntity,
        { tenantId: tenant.id, store, version: placement.version },
        { serverUrl: recorded.serverUrl, serverSecret: recorded.serverSecret, version: placement.version + 1 },
      );
      if (!result.affected) {
        const now = await manager.findOneBy(PlacementEntity, { tenantId: tenant.id, store });
        throw CatalogException.placementVersionConflict(slug, store, placement.version, now?.version ?? 0);
      }
      await this.keepProvisioner(manager, tenant.id, store, recorded.provisioner);
    });
    this.changed(slug);
    return objects;
  }

  /**
   * The provisioning login's URL (password included) kept for the tenant's `store` placement that
   * has a login of its own; null for any other placement. Moves fence, copy and clean up with it.
   */
  async placementProvisionerUrl(tenantId: string, store: StoreName): Promise<string | null> {
    const own = (await this.placementLogins(tenantId)).find((p) => p.store === store);
    return own?.provisionerUrl ?? null;
  }

  /** The own login of the tenant's `store` placement in `database` (its password derived from the store's key). */
  placementLogin(store: StoreName, database: string): ServerLogin {
    const username = tenantLoginName(database);
    return { username, password: this.secrets.placementLoginPassword(store, username) };
  }

  private async placementLogins(
    tenantId: string,
  ): Promise<Array<{ store: StoreName; database: string; provisionerUrl: string; login: ServerLogin }>> {
    const rows = await this.db.query<
      Array<{ store: StoreName; server_url: string; server_secret: Buffer | null; database_name: string }>
    >(
      `SELECT pp.store, pp.server_url, pp.server_secret, p.database_name
         FROM placement_provisioners pp JOIN placements p USING (tenant_id, store)
        WHERE pp.tenant_id = $1 ORDER BY pp.store`,
      [tenantId],
    );
    return rows.map((row) => ({
      store: row.store,
      database: row.database_name,
      provisionerUrl: joinServerUrl(
        row.server_url,
        row.server_secret === null ? undefined : this.secrets.openProvisioner(row.server_secret, tenantId, row.store),
      ),
      login: this.placementLogin(row.store, row.database_name),
    }));
  }

  /** Moves a tenant through its lifecycle. */
  async setStatus(slug: TenantSlug, status: TenantStatus): Promise<void> {
    const result = await this.db
      .createQueryBuilder()
      .update(TenantEntity)
      .set({ status, version: () => 'version + 1' })
      .where('slug = :slug', { slug })
      .execute();
    if (!result.affected) throw CatalogException.tenantNotFound(slug);
    this.changed(slug);
  }

  /** Removes the tenant with this id (only that one, whatever its slug became); false when absent. */
  async deleteTenantById(id: string, slug: TenantSlug): Promise<boolean> {
    await this.dropPlacementLogins(id);
    const result = await this.db.getRepository(TenantEntity).delete({ id });
    this.changed(slug);
    return (result.affected ?? 0) > 0;
  }

  /** Removes the tenant, its placements and its keys from the catalog; false when it was not there. */
  async deleteTenant(slug: TenantSlug): Promise<boolean> {
    const tenant = await this.db.getRepository(TenantEntity).findOneBy({ slug });
    if (tenant) await this.dropPlacementLogins(tenant.id);
    const result = await this.db.getRepository(TenantEntity).delete({ slug });
    this.changed(slug);
    return (result.affected ?? 0) > 0;
  }

  /**
   * Points the tenant's `store` placement at another server (same database name), or, with
   * `layout`, at another kind and names on it (a schema moved to a server of its own, a database
   * moved into a schema), in one transaction and only if the placement is still at
   * `expectedVersion`: the version is bumped, so every process's data router serves the tenant
   * from its new home on the next request, and `catalog.tenant.changed` is published so they do
   * it at once. A password in `toServerUrl` is sealed like at creation.
   * `PLACEMENT_VERSION_CONFLICT` when someone changed the placement since it was read;
   * `TENANT_NOT_FOUND` / `PLACEMENT_NOT_FOUND` when there is none; `INVALID_PLACEMENT` for a
   * layout that does not hold together.
   */
  async movePlacement(
    slug: TenantSlug,
    store: StoreName,
    toServerUrl: string,
    expectedVersion: number,
    layout?: PlacementLayout,
  ): Promise<PlacementView> {
    const { serverUrl, password } = splitServerUrl(toServerUrl);
    if (layout) assertLayout(layout, toServerUrl);
    else assertGivenLogin(toServerUrl);
    const moved = await this.db.transaction(async (manager) => {
      const tenant = await manager.findOneBy(TenantEntity, { slug });
      if (!tenant) throw CatalogException.tenantNotFound(slug);
      const current = await manager.findOne(PlacementEntity, {
        where: { tenantId: tenant.id, store },
        lock: { mode: 'pessimistic_write' },
      });
      if (!current) throw CatalogException.placementNotFound(slug, store);
      if (current.version !== expectedVersion) {
        throw CatalogException.placementVersionConflict(slug, store, expectedVersion, current.version);
      }
      const recorded = this.recordedServer(
        tenant.id,
        store,
        serverUrl,
        password,
        layout?.kind ?? current.kind,
        layout?.database ?? current.databaseName,
      );
      await manager.update(
        PlacementEntity,
        { tenantId: tenant.id, store, version: expectedVersion },
        {
          serverUrl: recorded.serverUrl,
          serverSecret: recorded.serverSecret,
          version: expectedVersion + 1,
          ...(layout ? { kind: layout.kind, databaseName: layout.database, schemaName: layout.schema ?? null } : {}),
        },
      );
      await this.keepProvisioner(manager, tenant.id, store, recorded.provisioner);
      return {
        ...current,
        serverUrl: recorded.serverUrl,
        version: expectedVersion + 1,
        ...(layout ? { kind: layout.kind, databaseName: layout.database, schemaName: layout.schema ?? null } : {}),
      };
    });
    this.changed(slug);
    return viewOf(moved);
  }

  /**
   * Runs `work` while holding the system-database advisory lock of (store, tenant) that the
   * stores take to create or drop the tenant's database, so a move never races a provisioning
   * or a deletion of the same database. The lock pins one catalog connection meanwhile.
   */
  withPlacementLock<T>(slug: TenantSlug, store: StoreName, work: () => Promise<T>): Promise<T> {
    return withPlacementLock(this.db, store, slug, work);
  }

  /** All tenants with their placements (no credentials), oldest first. */
  async listTenants(): Promise<TenantView[]> {
    const tenants = await this.db.getRepository(TenantEntity).find({ order: { createdAt: 'ASC', slug: 'ASC' } });
    const placements = await this.db.getRepository(PlacementEntity).find();
    const byTenant = new Map<string, PlacementView[]>();
    for (const p of placements) {
      const list = byTenant.get(p.tenantId) ?? [];
      list.push(viewOf(p));
      byTenant.set(p.tenantId, list);
    }
    return tenants.map((t) => ({
      id: t.id,
      slug: t.slug as TenantSlug,
      name: t.name,
      status: t.status,
      version: t.version,
      createdAt: t.createdAt,
      keyLabel: t.keyLabel,
      formerSlug: t.formerSlug,
      purgeAfter: t.purgeAfter,
      placements: (byTenant.get(t.id) ?? []).sort((a, b) => a.store.localeCompare(b.store)),
    }));
  }

  private async insertPlacement(manager: EntityManager, tenantId: string, spec: PlacementSpec): Promise<void> {
    assertLayout(spec, spec.serverUrl);
    const { serverUrl, password } = splitServerUrl(spec.serverUrl);
    const given =
      password ??
      (spec.sealedPassword === undefined ? undefined : this.openSealed(spec.sealedPassword, tenantId, spec.store));
    const recorded = this.recordedServer(tenantId, spec.store, serverUrl, given, spec.kind, spec.database);
    await manager.insert(PlacementEntity, {
      tenantId,
      store: spec.store,
      serverUrl: recorded.serverUrl,
      serverSecret: recorded.serverSecret,
      databaseName: spec.database,
      kind: spec.kind,
      schemaName: spec.schema ?? null,
      version: 1,
    });
    if (recorded.provisioner) await this.keepProvisioner(manager, tenantId, spec.store, recorded.provisioner);
  }

  /**
   * What the catalog records as a placement's server, given its URL (no password) and password:
   * that URL with the password sealed for the store, or for a placement that gets a login of its
   * own ({@link getsPlacementLogin}), that login without a password (the store derives it from its
   * key), with the given (provisioning) login kept apart for the operators' processes (its
   * password sealed with the master key).
   */
  private recordedServer(
    tenantId: string,
    store: StoreName,
    serverUrl: string,
    password: string | undefined,
    kind: PlacementKind,
    database: string,
  ): {
    serverUrl: string;
    serverSecret: Buffer | null;
    provisioner?: { serverUrl: string; serverSecret: Buffer | null };
  } {
    if (!getsPlacementLogin(serverUrl, kind))
      return { serverUrl, serverSecret: password === undefined ? null : this.secrets.seal(password, tenantId, store) };
    return {
      // No password stored: the store derives the login's from its key (placementLoginPassword).
      serverUrl: asPlacementLogin(serverUrl, this.placementLogin(store, database).username),
      serverSecret: null,
      provisioner: {
        serverUrl,
        serverSecret: password === undefined ? null : this.secrets.sealProvisioner(password, tenantId, store),
      },
    };
  }

  private async keepProvisioner(
    manager: EntityManager,
    tenantId: string,
    store: StoreName,
    provisioner: { serverUrl: string; serverSecret: Buffer | null } | undefined,
  ): Promise<void> {
    if (!provisioner) {
      await manager.query('DELETE FROM placement_provisioners WHERE tenant_id = $1 AND store = $2', [tenantId, store]);
      return;
    }
    await manager.query(
      `INSERT INTO placement_provisioners (tenant_id, store, server_url, server_secret) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, store) DO UPDATE SET server_url = EXCLUDED.server_url, server_secret = EXCLUDED.server_secret`,
      [tenantId, store, provisioner.serverUrl, provisioner.serverSecret],
    );
  }

  /** The password `sealed` (base64, {@link sealedSpec}) holds for this tenant and store; `INVALID_PLACEMENT` when it does not open. */
  private openSealed(sealed: string, tenantId: string, store: StoreName): string {
    try {
      return this.secrets.open(Buffer.from(sealed, 'base64'), tenantId, store);
    } catch {
      throw CatalogException.invalidPlacement(`the sealed password of the ${store} placement does not open`);
    }
  }

  private changed(slug: TenantSlug): void {
    this.catalog.announceTenantChanged(slug);
  }

  /**
   * Seals again, each with its store's key, the server passwords sealed before store keys (with a
   * key derived from the master key itself), so the stores holding only their own key can open
   * them. Needs the master key; idempotent; returns how many were sealed again. The gateway runs it
   * at start.
   */
  async resealLegacyServerSecrets(): Promise<number> {
    const sealed = await this.db.getRepository(PlacementEntity).find({
      where: { serverSecret: Not(IsNull()) },
      select: { tenantId: true, store: true, serverSecret: true, version: true },
    });
    let resealed = 0;
    for (const placement of sealed) {
      if (!this.secrets.isLegacy(placement.serverSecret!, placement.tenantId, placement.store)) continue;
      const password = this.secrets.open(placement.serverSecret!, placement.tenantId, placement.store);
      // Only if unchanged since read (a move meanwhile sealed it anew).
      const result = await this.db
        .getRepository(PlacementEntity)
        .update(
          { tenantId: placement.tenantId, store: placement.store, version: placement.version },
          { serverSecret: this.secrets.seal(password, placement.tenantId, placement.store) },
        );
      resealed += result.affected ?? 0;
    }
    return resealed;
  }
}

function viewOf(p: PlacementEntity): PlacementView {
  return {
    store: p.store,
    kind: p.kind,
    server: parseServerUrl(p.serverUrl).id,
    database: p.databaseName,
    ...(p.schemaName ? { schema: p.schemaName } : {}),
    version: p.version,
  };
}

/** `INVALID_PLACEMENT` unless the names are valid and a schema goes with a `schema` placement on PostgreSQL. */
function assertLayout(layout: PlacementLayout, serverUrl: string): void {
  assertPlacementDatabase(layout.database);
  if ((layout.kind === 'schema') !== (layout.schema !== undefined))
    throw CatalogException.invalidPlacement('a schema name goes with a schema placement, and only there');
  if (layout.schema !== undefined) assertPlacementDatabase(layout.schema);
  const address = assertGivenLogin(serverUrl);
  if (layout.kind === 'schema' && address.dialect !== 'postgres')
    throw CatalogException.invalidPlacement('schema placements need a PostgreSQL server');
  // A store's runtime login provisions schema placements only (through db-roles' functions).
  if (layout.kind !== 'schema' && address.dialect === 'postgres' && isStoreRuntimeLogin(address.username))
    throw CatalogException.invalidPlacement(
      "a database or dedicated placement on PostgreSQL needs a provisioning login in its server URL, not a runtime login (give the server, or the gateway that server's provisioning login in PROVISIONER_URLS)",
    );
}

/** The server URL's address, unless its user is a placement's own login (the catalog makes those, and records them itself). */
function assertGivenLogin(serverUrl: string) {
  const address = parseServerUrl(serverUrl);
  if (isTenantLogin(address.username))
    throw CatalogException.invalidPlacement(
      "a placement's own login is made by the catalog: give the server URL with the provisioning login",
    );
  return address;
}

function assertPlacementDatabase(database: string): void {
  try {
    assertDatabaseName(database);
  } catch {
    throw CatalogException.invalidPlacement('database name must match ^[a-z][a-z0-9_]{0,62}$');
  }
}
