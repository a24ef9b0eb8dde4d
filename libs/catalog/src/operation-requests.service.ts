import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { parseServerUrl, returnedRows } from '#polystore/data-router';
import type { TenantSlug } from '#polystore/tenancy';
import { DataSource } from 'typeorm';
import { CatalogException } from './catalog.exception.js';
import { SYSTEM_DATA_SOURCE } from './catalog.tokens.js';
import { OperationException } from './operation.exception.js';
import type { StoreName } from './store-name.js';

/** What an operation does: move one placement, or apply the pending migrations of one placement. */
export type OperationKind = 'move' | 'migrate';
/** `queued` until a worker claims it, `running` while a worker holds its lease, then final. */
export type OperationState = 'queued' | 'running' | 'succeeded' | 'failed';

/** One phase an operation went through, with the database's time. */
export interface OperationEvent {
  readonly at: string;
  readonly phase: string;
}

/** An operation request as stored (never a secret: servers are `dialect://host:port`). */
export interface OperationRecord {
  readonly id: string;
  readonly kind: OperationKind;
  readonly tenant: string;
  readonly tenantId: string;
  readonly store: StoreName;
  /** `move`: `{ targetKind, targetServer }` (a server id, `dialect://host:port`); `migrate`: `{}`. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly state: OperationState;
  readonly phase: string | null;
  readonly events: readonly OperationEvent[];
  /** The worker's report once `succeeded` (a move's pause, totals and rows; the migrations applied). */
  readonly report: Readonly<Record<string, unknown>> | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  /** `console:<first 8 characters of the session nonce>`, or `cli:...`. */
  readonly requestedBy: string;
  readonly worker: string | null;
  readonly leaseUntil: Date | null;
  readonly attempts: number;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** The database's clock when this row was read: compare leases and ages with it, not with the caller's. */
  readonly readAt: Date;
}

/** A claimed operation; `takenOver` when it was `running` under a worker whose lease expired. */
export interface ClaimedOperation extends OperationRecord {
  readonly takenOver: { readonly worker: string | null; readonly phase: string | null } | null;
}

/** What a request asks for. */
export interface OperationSpec {
  readonly kind: OperationKind;
  readonly tenant: TenantSlug;
  readonly store: StoreName;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly requestedBy: string;
}

/** How an operation ended. */
export type OperationOutcome =
  | { readonly state: 'succeeded'; readonly report: Readonly<Record<string, unknown>> }
  | { readonly state: 'failed'; readonly code: string; readonly message: string };

/** A database server a store's placements already use: its id (`dialect://host:port`). */
export interface KnownServer {
  readonly store: string;
  readonly server: string;
}

interface Row {
  id: string;
  kind: OperationKind;
  tenant_slug: string;
  tenant_id: string;
  store: StoreName;
  params: Record<string, unknown>;
  state: OperationState;
  phase: string | null;
  events: OperationEvent[];
  report: Record<string, unknown> | null;
  error_code: string | null;
  error_message: string | null;
  requested_by: string;
  worker: string | null;
  lease_until: Date | null;
  attempts: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  read_at: Date;
}

const COLUMNS = `o.id::text AS id, o.kind, o.tenant_slug, o.tenant_id::text AS tenant_id, o.store, o.params, o.state,
  o.phase, o.events, o.report, o.error_code, o.error_message, o.requested_by, o.worker, o.lease_until, o.attempts,
  o.created_at, o.started_at, o.finished_at, now() AS read_at`;
const UNIQUE_VIOLATION = '23505';
/** Characters of a phase or error message kept (they come from our own code, but stay bounded). */
const MAX_TEXT = 2_000;

/**
 * Long operations in the catalog (`operations`, migration `CatalogOperations1764209100000`): the
 * console records what an operator asked for ({@link request}); `polystore ops worker`, which
 * holds the administrative database access the gateway must not, claims requests one at a time
 * ({@link claim}: `FOR UPDATE SKIP LOCKED`, so two workers never take one), renews its lease
 * while it works, appends each phase ({@link recordPhase}) and writes the outcome
 * ({@link finish}). Every write of a worker names it: once its lease expired and another worker
 * took the operation over, its writes change nothing (they return false).
 */
@Injectable()
export class OperationRequests {
  constructor(@Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource) {}

  /**
   * Records a request for an active tenant's placement in `store`. `OPERATION_IN_PROGRESS` (409)
   * while the tenant has one queued or running in that store (a unique partial index decides,
   * so two requests at once cannot both pass).
   */
  async request(spec: OperationSpec): Promise<OperationRecord> {
    const [tenant] = await this.db.query<Array<{ id: string; status: string; placed: boolean }>>(
      `SELECT t.id::text AS id, t.status,
              EXISTS (SELECT 1 FROM placements p WHERE p.tenant_id = t.id AND p.store = $2) AS placed
         FROM tenants t WHERE t.slug = $1`,
      [spec.tenant, spec.store],
    );
    if (!tenant || tenant.status === 'deleted') throw CatalogException.tenantNotFound(spec.tenant);
    if (tenant.status !== 'active') throw CatalogException.tenantNotReady(spec.tenant, tenant.status);
    if (!tenant.placed) throw CatalogException.placementNotFound(spec.tenant, spec.store);
    const id = randomUUID();
    try {
      await this.db.query(
        `INSERT INTO operations (id, kind, tenant_id, tenant_slug, store, params, requested_by, events)
         VALUES ($1, $2, $3, $4, $5, $6, $7, jsonb_build_array(jsonb_build_object('at', now(), 'phase', 'queued')))`,
        [id, spec.kind, tenant.id, spec.tenant, spec.store, JSON.stringify(spec.params ?? {}), spec.requestedBy],
      );
    } catch (error) {
      if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
      const [active] = await this.db.query<Array<{ id: string }>>(
        `SELECT id::text AS id FROM operations WHERE tenant_id = $1 AND store = $2 AND state IN ('queued', 'running')`,
        [tenant.id, spec.store],
      );
      throw OperationException.inProgress(spec.tenant, spec.store, active?.id ?? null);
    }
    return this.get(id);
  }

  /** One operation; `OPERATION_NOT_FOUND` otherwise. */
  async get(id: string): Promise<OperationRecord> {
    const [row] = await this.db.query<Row[]>(`SELECT ${COLUMNS} FROM operations o WHERE o.id = $1`, [id]);
    if (!row) throw OperationException.notFound(id);
    return recordOf(row);
  }

  /** The newest `limit` operations (of one tenant, by slug at request time, when given), newest first. */
  async latest(limit: number, tenant?: TenantSlug): Promise<OperationRecord[]> {
    const rows = await this.db.query<Row[]>(
      `SELECT ${COLUMNS} FROM operations o
        WHERE ($2::text IS NULL OR o.tenant_id = (SELECT id FROM tenants WHERE slug = $2))
        ORDER BY o.created_at DESC, o.id LIMIT $1`,
      [limit, tenant ?? null],
    );
    return rows.map(recordOf);
  }

  /** The servers each store's placements use (ids, never credentials), sorted. */
  async knownServers(): Promise<KnownServer[]> {
    const rows = await this.db.query<Array<{ store: string; server_url: string }>>(
      'SELECT DISTINCT store, server_url FROM placements',
    );
    const seen = new Map<string, KnownServer>();
    for (const row of rows) {
      const server = parseServerUrl(row.server_url).id;
      seen.set(`${row.store} ${server}`, { store: row.store, server });
    }
    return [...seen.values()].sort((a, b) => a.store.localeCompare(b.store) || a.server.localeCompare(b.server));
  }

  /**
   * An active tenant whose `store` placement is on the server `serverId`: whose placement (and
   * its sealed password) a worker opens to reach that server. Null when no placement is there.
   */
  async tenantOnServer(store: StoreName, serverId: string): Promise<TenantSlug | null> {
    const rows = await this.db.query<Array<{ slug: string; server_url: string }>>(
      `SELECT DISTINCT ON (p.server_url) t.slug, p.server_url FROM placements p JOIN tenants t ON t.id = p.tenant_id
        WHERE p.store = $1 AND t.status = 'active' ORDER BY p.server_url, p.updated_at DESC`,
      [store],
    );
    const found = rows.find((row) => parseServerUrl(row.server_url).id === serverId);
    return found ? (found.slug as TenantSlug) : null;
  }

  /**
   * Takes the oldest operation that is queued, or running under an expired lease (its worker
   * died or lost the database), for `worker` until `leaseMs` from now (the database's clock).
   * `FOR UPDATE SKIP LOCKED`: concurrent workers take different rows, never the same one.
   */
  async claim(worker: string, leaseMs: number): Promise<ClaimedOperation | null> {
    const [row] = returnedRows<Row & { was: OperationState; was_worker: string | null; was_phase: string | null }>(
      await this.db.query(
        `WITH candidate AS (
         SELECT id, state AS was, worker AS was_worker, phase AS was_phase FROM operations
          WHERE state = 'queued' OR (state = 'running' AND lease_until < now())
          ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE operations o
          SET state = 'running', worker = $1, lease_until = now() + $2 * interval '1 millisecond',
              attempts = o.attempts + 1, started_at = coalesce(o.started_at, now()), updated_at = now(),
              phase = 'claimed',
              events = o.events || jsonb_build_array(jsonb_build_object('at', now(), 'phase',
                CASE WHEN c.was = 'running' THEN 'taken over by ' || $1 ELSE 'claimed by ' || $1 END))
         FROM candidate c WHERE o.id = c.id
       RETURNING ${COLUMNS}, c.was, c.was_worker, c.was_phase`,
        [worker, leaseMs],
      ),
    );
    if (!row) return null;
    return {
      ...recordOf(row),
      takenOver: row.was === 'running' ? { worker: row.was_worker, phase: row.was_phase } : null,
    };
  }

  /** Extends the lease; false when the operation is no longer this worker's (taken over, or finished). */
  async renew(id: string, worker: string, leaseMs: number): Promise<boolean> {
    return this.changed(
      `UPDATE operations SET lease_until = now() + $3 * interval '1 millisecond'
        WHERE id = $1 AND worker = $2 AND state = 'running'`,
      [id, worker, leaseMs],
    );
  }

  /** Appends a phase (with the database's time) and makes it the current one; false when no longer this worker's. */
  async recordPhase(id: string, worker: string, phase: string): Promise<boolean> {
    return this.changed(
      `UPDATE operations SET phase = $3, updated_at = now(),
              events = events || jsonb_build_array(jsonb_build_object('at', clock_timestamp(), 'phase', $3::text))
        WHERE id = $1 AND worker = $2 AND state = 'running'`,
      [id, worker, phase.slice(0, MAX_TEXT)],
    );
  }

  /** Writes the outcome and ends the lease; false when the operation is no longer this worker's. */
  async finish(id: string, worker: string, outcome: OperationOutcome): Promise<boolean> {
    const failed = outcome.state === 'failed';
    return this.changed(
      `UPDATE operations SET state = $3, phase = $3, report = $4, error_code = $5, error_message = $6,
              finished_at = now(), updated_at = now(), lease_until = NULL,
              events = events || jsonb_build_array(jsonb_build_object('at', clock_timestamp(), 'phase', $3::text))
        WHERE id = $1 AND worker = $2 AND state = 'running'`,
      [
        id,
        worker,
        outcome.state,
        failed ? null : JSON.stringify(outcome.report),
        failed ? outcome.code.slice(0, 100) : null,
        failed ? outcome.message.slice(0, MAX_TEXT) : null,
      ],
    );
  }

  /** Puts a running operation back in the queue (a worker stopping before it changed anything). */
  async release(id: string, worker: string): Promise<boolean> {
    return this.changed(
      `UPDATE operations SET state = 'queued', worker = NULL, lease_until = NULL, phase = 'queued', updated_at = now(),
              events = events || jsonb_build_array(jsonb_build_object('at', clock_timestamp(), 'phase', 'released by ' || $2))
        WHERE id = $1 AND worker = $2 AND state = 'running'`,
      [id, worker],
    );
  }

  /** Runs an UPDATE (`RETURNING id` is added): whether it changed a row. */
  private async changed(sql: string, params: unknown[]): Promise<boolean> {
    return returnedRows(await this.db.query(`${sql} RETURNING id`, params)).length > 0;
  }
}

function recordOf(row: Row): OperationRecord {
  return {
    id: row.id,
    kind: row.kind,
    tenant: row.tenant_slug,
    tenantId: row.tenant_id,
    store: row.store,
    params: row.params,
    state: row.state,
    phase: row.phase,
    events: row.events,
    report: row.report,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    requestedBy: row.requested_by,
    worker: row.worker,
    leaseUntil: row.lease_until,
    attempts: row.attempts,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    readAt: row.read_at,
  };
}
