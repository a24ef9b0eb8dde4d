import { Injectable } from '@nestjs/common';
import type { SharedSchema } from '#polystore/data-router';
import { newRequestContext, RequestContextStore, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { AuditEntryView } from '#polystore/messaging';
import type { EntityManager } from 'typeorm';
import { TenantKeyring, type TenantKeys } from '../crypto/tenant-keyring.service.js';
import { chainHash } from './audit-chain.util.js';
import { AuditCheckpointer } from './audit-checkpointer.service.js';
import { AuditEntryEntity, type AuditHeadEntity } from './audit-entry.entity.js';
import { AuditRepository, type SpanAppend } from './audit.repository.js';

/** What happened, to what; who and when are taken from the request context. */
export interface AuditEvent {
  readonly action: 'customer.create' | 'customer.read' | 'customer.search' | 'customer.delete';
  readonly subjectId: string | null;
  /** `failed`: the read found data that did not decrypt (tampered, or a wrong key). */
  readonly outcome: 'ok' | 'not_found' | 'failed';
}

interface Pending {
  readonly event: AuditEvent;
  readonly actor: string | null;
  readonly correlationId: string;
  readonly at: Date;
  resolve(): void;
  reject(error: unknown): void;
}

/** Records of one tenant waiting for an append spanning the tenants of its shared pool. */
interface Share {
  readonly tenant: TenantSlug;
  schema: string;
  readonly entries: Pending[];
  /** Times these records were chained again after another writer advanced the head first. */
  races: number;
}

/** The records waiting for the next append spanning the tenants of one shared pool. */
interface Span {
  readonly shares: Map<TenantSlug, Share>;
  flushing: boolean;
}

const MAX_BATCH = 500;
/** Tenants in one statement spanning tenants (13 parameters each). */
const MAX_SPAN_TENANTS = 200;
/** Heads remembered (one per tenant audited lately); beyond it the oldest is forgotten. */
const MAX_CACHED_HEADS = 5_000;
/** Times a batch is chained again after another writer advanced the head first. */
const MAX_HEAD_RACES = 20;
/** Appends spanning tenants a tenant's records may lose to another writer before they go on their own. */
const SPAN_RACES = 2;

type ChainHead = { readonly seq: number; readonly hash: Buffer };

/**
 * The tamper-evident audit log of a tenant's secure data.
 *
 * Mutations append their record in the same transaction as the effect
 * ({@link appendInTransaction}, under a lock of the chain head). Reads use {@link record}, a group
 * commit; each caller waits until its record is durable before it gets its answer:
 * - tenants on a schema of a shared database: **one statement for every tenant of the pool** with
 *   records waiting, in one transaction bound to the store's appender role
 *   ({@link AuditRepository.appendAcross}): each tenant's head advances only if it is still where
 *   this process last saw it, and only the tenants whose head moved get their records written;
 *   one append at a time per pool, the records that arrive meanwhile go in the next;
 * - other tenants (a database of their own, or a schema whose grants the migration could not
 *   give): a group commit per tenant, one statement too ({@link AuditRepository.appendAfter}).
 * The head is remembered per tenant between appends: a head that another process (a replica, a
 * mutation) moved costs one read of it and the records are chained again. Every append is counted
 * by the {@link AuditCheckpointer} (in memory; the signed checkpoint is written later).
 */
@Injectable()
export class AuditLog {
  private readonly queues = new Map<TenantSlug, { entries: Pending[]; flushing: boolean }>();
  private readonly spans = new Map<string, Span>();
  /** The head this process last wrote or read, per tenant: a hint, checked by every append. */
  private readonly heads = new Map<TenantSlug, ChainHead>();
  /** Per pool and schema: whether the appender role may advance the schema's chain. */
  private readonly appendable = new Map<string, boolean>();

  constructor(
    private readonly repository: AuditRepository,
    private readonly keyring: TenantKeyring,
    private readonly checkpointer: AuditCheckpointer,
  ) {}

  /**
   * Appends `events` to the current tenant's chain inside `manager`'s transaction. `keys` are
   * fetched by the caller before the transaction: no second connection is needed inside it.
   */
  async appendInTransaction(manager: EntityManager, keys: TenantKeys, events: readonly AuditEvent[]): Promise<void> {
    const context = RequestContextStore.current();
    const now = new Date();
    // The head this transaction moves is not this process's to remember until it commits.
    if (context?.tenant) this.heads.delete(context.tenant);
    await this.appendPending(
      manager,
      keys,
      events.map((event) => ({
        event,
        actor: context?.actor ?? null,
        correlationId: context?.correlationId ?? 'none',
        at: now,
        resolve: () => undefined,
        reject: () => undefined,
      })),
    );
    // Counted before the commit: at worst a checkpoint attempt finds the head unchanged.
    if (context?.tenant) this.checkpointer.noteAppended(context.tenant, events.length);
  }

  /** Appends `event` durably (group commit); resolves once it is committed. */
  record(event: AuditEvent): Promise<void> {
    const tenant = RequestContextStore.requireTenant();
    const context = RequestContextStore.current()!;
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        event,
        actor: context.actor ?? null,
        correlationId: context.correlationId,
        at: new Date(),
        resolve,
        reject,
      };
      this.repository.sharedSchemaOf(tenant).then((shared) => {
        if (shared && this.appendable.get(appendableKey(shared.pool, shared.schema)) !== false)
          this.enqueueSpan(shared, [pending]);
        else this.enqueueOwn(tenant, [pending]);
      }, reject);
    });
  }

  /** A page of the current tenant's records. */
  async list(afterSeq: number, limit: number): Promise<{ items: AuditEntryView[]; nextAfterSeq: number | null }> {
    const rows = await this.repository.page(afterSeq, limit);
    return {
      items: rows.map((r) => ({
        seq: r.seq,
        at: r.at.toISOString(),
        action: r.action,
        subjectId: r.subjectId,
        actor: r.actor,
        correlationId: r.correlationId,
        outcome: r.outcome,
      })),
      nextAfterSeq: rows.length === limit ? rows[rows.length - 1]!.seq : null,
    };
  }

  private enqueueOwn(tenant: TenantSlug, entries: readonly Pending[]): void {
    let queue = this.queues.get(tenant);
    if (!queue) {
      queue = { entries: [], flushing: false };
      this.queues.set(tenant, queue);
    }
    queue.entries.push(...entries);
    if (!queue.flushing) void this.flush(tenant, queue);
  }

  /** Adds records to their pool's next append; `first` puts them before the tenant's newer ones. */
  private enqueueSpan(shared: SharedSchema, entries: readonly Pending[], races = 0, first = false): void {
    let span = this.spans.get(shared.pool);
    if (!span) {
      span = { shares: new Map(), flushing: false };
      this.spans.set(shared.pool, span);
    }
    let share = span.shares.get(shared.tenant);
    if (!share) {
      share = { tenant: shared.tenant, schema: shared.schema, entries: [], races: 0 };
      span.shares.set(shared.tenant, share);
    }
    share.schema = shared.schema;
    share.races = Math.max(share.races, races);
    if (first) share.entries.unshift(...entries);
    else share.entries.push(...entries);
    if (!span.flushing) void this.flushSpan(shared.pool, span);
  }

  private async flush(tenant: TenantSlug, queue: { entries: Pending[]; flushing: boolean }): Promise<void> {
    queue.flushing = true;
    try {
      while (queue.entries.length > 0) {
        const batch = queue.entries.splice(0, MAX_BATCH);
        try {
          await runAsTenant(tenant, async () => this.appendBatch(tenant, await this.keyring.current(), batch));
          for (const pending of batch) pending.resolve();
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      queue.flushing = false;
      if (queue.entries.length === 0) this.queues.delete(tenant);
      else void this.flush(tenant, queue);
    }
  }

  /** Appends what waits for `pool`, one statement at a time, until nothing does. */
  private async flushSpan(pool: string, span: Span): Promise<void> {
    span.flushing = true;
    try {
      while (span.shares.size > 0) {
        const shares: Share[] = [];
        for (const share of span.shares.values()) {
          if (shares.length === MAX_SPAN_TENANTS) break;
          shares.push({ ...share, entries: share.entries.splice(0, MAX_BATCH) });
          if (share.entries.length === 0) span.shares.delete(share.tenant);
        }
        // A context of its own: not the deadline of the request whose record started the flush.
        await RequestContextStore.run(newRequestContext(), () => this.appendSpan(pool, shares));
      }
    } finally {
      span.flushing = false;
      if (span.shares.size === 0) this.spans.delete(pool);
      else void this.flushSpan(pool, span);
    }
  }

  /**
   * Appends the records of `shares` (tenants of `pool`) in one transaction as the appender role;
   * never throws: every record is settled, or handed on (chained again after a head that moved,
   * or appended on its tenant's own when the pool's append cannot take it).
   */
  private async appendSpan(pool: string, shares: readonly Share[]): Promise<void> {
    const keyed: Array<{ share: Share; keys: TenantKeys }> = [];
    await Promise.all(
      shares.map(async (share) => {
        try {
          keyed.push({ share, keys: await runAsTenant(share.tenant, () => this.keyring.current()) });
        } catch (error) {
          for (const pending of share.entries) pending.reject(error);
        }
      }),
    );
    if (keyed.length === 0) return;
    let planned: Array<{ share: Share; append: SpanAppend; head: ChainHead }>;
    let moved: Set<string>;
    let own: Share[];
    try {
      ({ planned, moved, own } = await this.repository.spanning(pool, async (manager) => {
        const unknown = keyed
          .map(({ share }) => share.schema)
          .filter((schema) => !this.appendable.has(appendableKey(pool, schema)));
        if (unknown.length > 0) {
          const granted = await this.repository.appendable(manager, unknown);
          for (const schema of unknown) remember(this.appendable, appendableKey(pool, schema), granted.has(schema));
        }
        const own = keyed.filter(({ share }) => !this.appendable.get(appendableKey(pool, share.schema)));
        const spanned = keyed.filter(({ share }) => this.appendable.get(appendableKey(pool, share.schema)));
        const read = await this.repository.headsOf(
          manager,
          spanned.filter(({ share }) => !this.heads.has(share.tenant)).map(({ share }) => share.schema),
        );
        const planned = spanned.map(({ share, keys }) => {
          const from: ChainHead | AuditHeadEntity | undefined = this.heads.get(share.tenant) ?? read.get(share.schema);
          if (!from) throw new Error(`audit head of ${share.tenant} missing`);
          const { rows, head } = chain(keys, from, share.entries);
          return { share, head, append: { schema: share.schema, entries: rows, from, to: head } };
        });
        const moved =
          planned.length > 0
            ? await this.repository.appendAcross(
                manager,
                planned.map((p) => p.append),
              )
            : new Set<string>();
        return { planned, moved, own: own.map(({ share }) => share) };
      }));
    } catch {
      // The unit failed as a whole (the server, a schema dropped or moved, a grant revoked): each
      // tenant appends on its own, which succeeds or fails closed for that tenant alone.
      for (const { share } of keyed) {
        this.appendable.delete(appendableKey(pool, share.schema));
        this.heads.delete(share.tenant);
        this.enqueueOwn(share.tenant, share.entries);
      }
      return;
    }
    for (const share of own) this.enqueueOwn(share.tenant, share.entries);
    for (const { share, head } of planned) {
      if (moved.has(share.schema)) {
        this.checkpointer.noteAppended(share.tenant, share.entries.length);
        remember(this.heads, share.tenant, head);
        for (const pending of share.entries) pending.resolve();
        continue;
      }
      this.heads.delete(share.tenant);
      // A head another writer holds is skipped, not waited for: a tenant that keeps losing (a
      // replica or a mutation appending to it at the same moment) is appended on its own, which
      // waits for the holder's commit and chains after it.
      if (share.races + 1 >= SPAN_RACES) this.enqueueOwn(share.tenant, share.entries);
      else this.enqueueSpan({ tenant: share.tenant, pool, schema: share.schema }, share.entries, share.races + 1, true);
    }
  }

  /** Writes `batch` after the tenant's head in one statement, chaining it again if the head moved. */
  private async appendBatch(tenant: TenantSlug, keys: TenantKeys, batch: readonly Pending[]): Promise<void> {
    for (let race = 0; race < MAX_HEAD_RACES; race++) {
      const from = this.heads.get(tenant) ?? (await this.repository.head());
      if (!from) throw new Error('audit head missing');
      const { rows, head } = chain(keys, from, batch);
      if (await this.repository.appendAfter(rows, from, head)) {
        this.checkpointer.noteAppended(tenant, rows.length);
        remember(this.heads, tenant, head);
        return;
      }
      this.heads.delete(tenant);
    }
    throw new Error(`audit head of ${tenant} moved ${MAX_HEAD_RACES} times under this batch`);
  }

  private async appendPending(manager: EntityManager, keys: TenantKeys, batch: readonly Pending[]): Promise<void> {
    const { rows, head } = chain(keys, await this.repository.lockHead(manager), batch);
    await this.repository.append(manager, rows, head);
  }
}

function appendableKey(pool: string, schema: string): string {
  return `${pool}\u0000${schema}`;
}

/** Sets `key` as the newest entry of `map`, forgetting the oldest beyond {@link MAX_CACHED_HEADS}. */
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_CACHED_HEADS) map.delete(map.keys().next().value as K);
}

/** `batch` as records chained after `head`, and the head after them. */
function chain(
  keys: TenantKeys,
  head: ChainHead,
  batch: readonly Pending[],
): { rows: AuditEntryEntity[]; head: ChainHead } {
  let seq = head.seq;
  let prevHash = head.hash;
  const rows: AuditEntryEntity[] = [];
  for (const pending of batch) {
    seq++;
    const record = {
      seq,
      at: pending.at,
      action: pending.event.action,
      subjectId: pending.event.subjectId,
      actor: pending.actor,
      correlationId: pending.correlationId,
      outcome: pending.event.outcome,
    };
    const hash = chainHash(keys.audit, prevHash, record);
    rows.push(Object.assign(new AuditEntryEntity(), record, { prevHash, hash }));
    prevHash = hash;
  }
  return { rows, head: { seq, hash: prevHash } };
}
