import { performance } from 'node:perf_hooks';
import {
  CatalogException,
  getsPlacementLogin,
  isStoreName,
  isStoreRuntimeLogin,
  placementNames,
  type CatalogAdminService,
  type CatalogService,
  splitServerUrl,
  type Placement,
  type PlacementLayout,
  type StoreName,
} from '#polystore/catalog';
import {
  isTenantLogin,
  PLACEMENT_KINDS,
  parseServerUrl,
  type Dialect,
  type PlacementKind,
  type RuntimeLogin,
  type StoreSchema,
} from '#polystore/data-router';
import { parseTenantSlug, type TenantSlug } from '#polystore/tenancy';
import { MoveException } from './move.exception.js';
import type { MoveReport } from './move-report.js';
import { MysqlMove } from './mysql-move.js';
import { PostgresMove, type MoveSettings } from './postgres-move.js';

/** What a {@link TenantMover} works with. Apps never import apps: the caller supplies the schemas. */
export interface TenantMoverDeps {
  readonly catalogAdmin: CatalogAdminService;
  readonly catalog: CatalogService;
  /** The store's entities and migrations for a dialect (`SECURE_SCHEMA`, `edgeSchema(dialect)`...). */
  readonly schemaFor: (store: StoreName, dialect: Dialect) => StoreSchema;
  /** The stores' runtime login (`ps_<store>_runtime`), for moves into a schema. */
  readonly runtimeLogin?: (store: StoreName) => RuntimeLogin;
  /**
   * Server URLs with the provisioning login (`PROVISIONER_URLS`): a move whose source or target
   * URL names a store's runtime login works through the one of the same server instead.
   */
  readonly provisioningUrls?: readonly string[];
  readonly settings?: Partial<MoveSettings>;
}

/** One move: `tenants move <slug> --store <store> --to <server-url> [--drop-source]`. */
export interface MoveRequest {
  readonly slug: string;
  readonly store: string;
  /** Target server URL (`postgres://` or `mysql://user:pass@host:port`, no database): its password is sealed in the catalog. */
  readonly to: string;
  /**
   * The placement's kind on the target (default: the same kind): a `schema` moved to a server of
   * its own (`dedicated`), a `database` moved into a `schema` (the upgrade path, same server
   * allowed), `database` <-> `dedicated`.
   */
  readonly kind?: string;
  /** Drop the old copy once the move succeeded (default: keep it, refusing connections or its tables renamed away). */
  readonly dropSource?: boolean;
  /** Called at each phase, for a terminal or a log. */
  readonly onProgress?: (phase: string) => void;
}

const DEFAULT_SETTINGS: MoveSettings = { lockTimeoutMs: 10_000, batchRows: 1_000, connectTimeoutMs: 5_000 };

/**
 * Moves a tenant's database for one store to another server while the stack keeps running:
 * copies and verifies it under a short write fence, then switches the placement (version + 1,
 * `catalog.tenant.changed`), so every running store opens the new server on its next request.
 * Writes made during the fence wait, then fail retryably (503) and land on the new server when
 * retried; none lands in the old copy, which is left refusing connections (PostgreSQL) or without
 * tables, renamed away under the fence into `<db>_m<timestamp>` (MariaDB/MySQL).
 *
 * PostgreSQL placements of every kind, to another server or another kind (`schema` <->
 * `dedicated`, `database` -> `schema` on the same server: the upgrade path); MariaDB/MySQL
 * `database` <-> `dedicated`. MongoDB placements are refused with `MOVE_NOT_SUPPORTED` (see
 * docs/operations.md, "Moving a tenant").
 */
export class TenantMover {
  private readonly settings: MoveSettings;

  constructor(private readonly deps: TenantMoverDeps) {
    this.settings = { ...DEFAULT_SETTINGS, ...deps.settings };
  }

  async move(request: MoveRequest): Promise<MoveReport> {
    const started = performance.now();
    const progress = request.onProgress ?? (() => undefined);
    const tenant = parseTenantSlug(request.slug);
    if (!isStoreName(request.store)) throw MoveException.unknownStore(request.store);
    const store = request.store;
    const kind = targetKind(request.kind);
    progress('resolve placement');
    const before = await this.activePlacement(tenant, store);
    this.checkTarget(before, request.to, kind);
    await this.placementProvisioner(before);
    const result = await this.deps.catalogAdmin.withPlacementLock(tenant, store, async () => {
      // Read again under the lock: a provisioning, a drop or another move may have run meanwhile.
      const placement = await this.activePlacement(tenant, store);
      const checked = this.checkTarget(placement, request.to, kind);
      const { dialect, layout, targetUrl } = checked;
      const sourceUrl = (await this.placementProvisioner(placement)) ?? checked.sourceUrl;
      const runtimeLogin = this.deps.runtimeLogin?.(store);
      const plan = {
        placement,
        sourceUrl,
        sourceHasOwnLogin: isTenantLogin(parseServerUrl(placement.serverUrl).username),
        to: targetUrl,
        ...(getsPlacementLogin(request.to, layout.kind)
          ? { targetLogin: this.deps.catalogAdmin.placementLogin(store, layout.database) }
          : {}),
        recordTo: request.to,
        layout,
        ...(runtimeLogin ? { runtimeLogin } : {}),
        schema: this.deps.schemaFor(store, dialect),
        dropSource: request.dropSource ?? false,
        settings: this.settings,
        progress,
      };
      const move =
        dialect === 'postgres'
          ? new PostgresMove(plan, this.deps.catalogAdmin, this.deps.catalog)
          : new MysqlMove(plan, this.deps.catalogAdmin, this.deps.catalog);
      return move.run();
    });
    progress('done');
    return { ...result, durationMs: Math.round(performance.now() - started) };
  }

  /** The placement, read from the catalog now (no cache), of a tenant that is `active`, with the tenant's id. */
  private async activePlacement(tenant: TenantSlug, store: StoreName): Promise<Placement & { tenantId: string }> {
    const record = await this.deps.catalog.findTenantFresh(tenant);
    if (!record) throw CatalogException.tenantNotFound(tenant);
    if (record.status !== 'active') throw CatalogException.tenantNotReady(tenant, record.status);
    return { ...(await this.deps.catalog.getPlacementFresh(tenant, store)), tenantId: record.id };
  }

  /**
   * Refuses what cannot be moved before anything is touched; returns the dialect and where the
   * data goes on the target: a schema gets the tenant's schema name in the store's shared database
   * (from its id), a database keeps its name, a schema becoming a database is named like it.
   */
  private checkTarget(
    placement: Placement & { tenantId: string },
    to: string,
    kind: PlacementKind | undefined,
  ): { dialect: Dialect; layout: PlacementLayout; sourceUrl: string; targetUrl: string } {
    splitServerUrl(to); // INVALID_PLACEMENT for a bad URL or one naming a database, without echoing it
    const source = parseServerUrl(placement.serverUrl);
    const target = parseServerUrl(to);
    if (source.dialect === 'mongodb') {
      throw MoveException.notSupported(
        `${source.dialect} placements (the ${placement.store} store of ${placement.tenant})`,
      );
    }
    if (family(target.dialect) !== family(source.dialect))
      throw MoveException.dialectMismatch(source.dialect, target.dialect);
    // The fence, the copy and the clean-up need the provisioning login: a store's runtime login
    // (schema placements provisioned through db-roles' functions) stands in for it in the URL.
    const sourceUrl = this.provisioningUrlFor(placement.serverUrl, 'source');
    const targetUrl = this.provisioningUrlFor(to, 'target');
    const after = kind ?? placement.kind;
    if (isTenantLogin(target.username))
      throw MoveException.notSupported(
        `a placement's own login (${target.username}) as the target: give --to the provisioning login`,
      );
    // A runtime login provisions schemas only (the catalog would refuse the switch, after the copy).
    if (after !== 'schema' && target.dialect === 'postgres' && isStoreRuntimeLogin(target.username))
      throw MoveException.notSupported(
        `a ${after} placement on a store's runtime login (${target.username}): give --to the provisioning login`,
      );
    if (after === 'schema' && source.dialect !== 'postgres')
      throw MoveException.notSupported(`schema placements on ${source.dialect} (a database of its own there)`);
    const layout: PlacementLayout =
      after === 'schema'
        ? { kind: after, ...placementNames(placement.store, placement.tenantId, 'schema') }
        : { kind: after, database: placement.schema ?? placement.database };
    const sameHome =
      target.id === source.id && layout.database === placement.database && layout.schema === placement.schema;
    if (sameHome) throw MoveException.sameServer(source.id);
    return { dialect: source.dialect, layout, sourceUrl, targetUrl };
  }

  /**
   * For a placement with a login of its own, the provisioning login the catalog keeps for it: the
   * fence, the copy and the clean-up need a login that reaches the server. Null for the others.
   */
  private async placementProvisioner(placement: Placement & { tenantId: string }): Promise<string | null> {
    const address = parseServerUrl(placement.serverUrl);
    if (!isTenantLogin(address.username)) return null;
    const url = await this.deps.catalogAdmin.placementProvisionerUrl(placement.tenantId, placement.store);
    if (url === null)
      throw MoveException.notSupported(
        `a placement with a login of its own (${address.username}) for which the catalog keeps no provisioning login`,
      );
    return url;
  }

  /** `url`, or for a PostgreSQL URL naming a store's runtime login, `PROVISIONER_URLS`' URL of that server. */
  private provisioningUrlFor(url: string, side: 'source' | 'target'): string {
    const address = parseServerUrl(url);
    if (address.dialect !== 'postgres' || !isStoreRuntimeLogin(address.username)) return url;
    const provisioning = (this.deps.provisioningUrls ?? []).find(
      (candidate) => parseServerUrl(candidate).id === address.id,
    );
    if (provisioning === undefined)
      throw MoveException.notSupported(
        `a ${side} server URL with a store's runtime login (${address.username}) without the provisioning login of ${address.id} in PROVISIONER_URLS`,
      );
    return provisioning;
  }
}

/** The `--kind` asked for, validated (undefined: keep the placement's kind). */
function targetKind(kind: string | undefined): PlacementKind | undefined {
  if (kind === undefined) return undefined;
  if (!(PLACEMENT_KINDS as readonly string[]).includes(kind))
    throw MoveException.notSupported(`the kind ${kind} (one of ${PLACEMENT_KINDS.join(', ')})`);
  return kind as PlacementKind;
}

/** `mysql://` and `mariadb://` URLs name the same kind of server. */
function family(dialect: Dialect): string {
  return dialect === 'mariadb' ? 'mysql' : dialect;
}
