import { Injectable } from '@nestjs/common';
import { RequestContextStore, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { AuditEntryView } from '#polystore/messaging';
import type { EntityManager } from 'typeorm';
import { TenantKeyring, type TenantKeys } from '../crypto/tenant-keyring.service.js';
import { chainHash } from './audit-chain.util.js';
import { AuditCheckpointer } from './audit-checkpointer.service.js';
import { AuditEntryEntity } from './audit-entry.entity.js';
import { AuditRepository } from './audit.repository.js';

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

const MAX_BATCH = 500;
/** Heads remembered (one per tenant audited lately); beyond it the oldest is forgotten. */
const MAX_CACHED_HEADS = 5_000;
/** Times a batch is chained again after another writer advanced the head first. */
const MAX_HEAD_RACES = 20;

type ChainHead = { readonly seq: number; readonly hash: Buffer };

/**
 * The tamper-evident audit log of a tenant's secure data.
 *
 * Mutations append their record in the same transaction as the effect
 * ({@link appendInTransaction}, under a lock of the chain head). Reads use {@link record}: a
 * group commit per tenant, so a burst of reads is written by **one statement** (one round trip)
 * that advances the head only if it is still where this process last saw it
 * ({@link AuditRepository.appendAfter}); each caller waits until its record is durable before it
 * gets its answer. The head is remembered per tenant between batches: a head that another
 * process (a replica, a mutation) moved costs one read of it and the batch is chained again.
 * Every append is counted by the {@link AuditCheckpointer} (in memory; the signed checkpoint is
 * written later, in the background).
 */
@Injectable()
export class AuditLog {
  private readonly queues = new Map<TenantSlug, { entries: Pending[]; flushing: boolean }>();
  /** The head this process last wrote or read, per tenant: a hint, checked by every append. */
  private readonly heads = new Map<TenantSlug, ChainHead>();

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
    let queue = this.queues.get(tenant);
    if (!queue) {
      queue = { entries: [], flushing: false };
      this.queues.set(tenant, queue);
    }
    const done = new Promise<void>((resolve, reject) => {
      queue.entries.push({
        event,
        actor: context.actor ?? null,
        correlationId: context.correlationId,
        at: new Date(),
        resolve,
        reject,
      });
    });
    if (!queue.flushing) void this.flush(tenant, queue);
    return done;
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

  /** Writes `batch` after the tenant's head in one statement, chaining it again if the head moved. */
  private async appendBatch(tenant: TenantSlug, keys: TenantKeys, batch: readonly Pending[]): Promise<void> {
    for (let race = 0; race < MAX_HEAD_RACES; race++) {
      const from = this.heads.get(tenant) ?? (await this.repository.head());
      if (!from) throw new Error('audit head missing');
      const { rows, head } = chain(keys, from, batch);
      if (await this.repository.appendAfter(rows, from, head)) {
        this.checkpointer.noteAppended(tenant, rows.length);
        this.heads.delete(tenant);
        this.heads.set(tenant, head);
        if (this.heads.size > MAX_CACHED_HEADS) this.heads.delete(this.heads.keys().next().value as TenantSlug);
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
