import { Injectable } from '@nestjs/common';
import { RequestContextStore, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { AuditEntryView } from '#polystore/messaging';
import type { EntityManager } from 'typeorm';
import { TenantKeyring, type TenantKeys } from '../crypto/tenant-keyring.service.js';
import { chainHash, ChainVerifier, type ChainVerdict } from './audit-chain.util.js';
import { AuditEntryEntity } from './audit-entry.entity.js';
import { AuditRepository } from './audit.repository.js';

/** What happened, to what; who and when are taken from the request context. */
export interface AuditEvent {
  readonly action: 'customer.create' | 'customer.read' | 'customer.search' | 'customer.delete';
  readonly subjectId: string | null;
  readonly outcome: 'ok' | 'not_found';
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
const VERIFY_BATCH = 1_000;

/**
 * The tamper-evident audit log of a tenant's secure data.
 *
 * Mutations append their record in the same transaction as the effect
 * ({@link appendInTransaction}). Reads use {@link record}: a group commit per tenant, so a
 * burst of reads shares one transaction (one lock of the chain head) while each caller still
 * waits until its record is durable before it gets its answer.
 */
@Injectable()
export class AuditLog {
  private readonly queues = new Map<TenantSlug, { entries: Pending[]; flushing: boolean }>();

  constructor(
    private readonly repository: AuditRepository,
    private readonly keyring: TenantKeyring,
  ) {}

  /**
   * Appends `events` to the current tenant's chain inside `manager`'s transaction. `keys` are
   * fetched by the caller before the transaction: no second connection is needed inside it.
   */
  async appendInTransaction(manager: EntityManager, keys: TenantKeys, events: readonly AuditEvent[]): Promise<void> {
    const context = RequestContextStore.current();
    const now = new Date();
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

  /** Walks the whole chain and compares it with the head: detects modified, deleted or inserted records. */
  async verify(): Promise<ChainVerdict> {
    const keys = await this.keyring.current();
    const verifier = new ChainVerifier(keys.audit);
    let afterSeq = 0;
    for (;;) {
      const rows = await this.repository.page(afterSeq, VERIFY_BATCH);
      if (!verifier.feed(rows) || rows.length < VERIFY_BATCH) break;
      afterSeq = rows[rows.length - 1]!.seq;
    }
    const head = await this.repository.head();
    return verifier.finish(head ?? { seq: -1, hash: Buffer.alloc(0) });
  }

  private async flush(tenant: TenantSlug, queue: { entries: Pending[]; flushing: boolean }): Promise<void> {
    queue.flushing = true;
    try {
      while (queue.entries.length > 0) {
        const batch = queue.entries.splice(0, MAX_BATCH);
        try {
          await runAsTenant(tenant, async () => {
            const keys = await this.keyring.current();
            await this.repository.transaction((manager) => this.appendPending(manager, keys, batch));
          });
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

  private async appendPending(manager: EntityManager, keys: TenantKeys, batch: readonly Pending[]): Promise<void> {
    const head = await this.repository.lockHead(manager);
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
    await this.repository.append(manager, rows, { seq, hash: prevHash });
  }
}
