import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { CustomerView, ParsedRequestOf, Contracts } from '#polystore/messaging';
import { IdempotentExecutor } from '#polystore/idempotency';
import { CrashPoints, hmacSha256, quotaExceeded } from '#polystore/platform';
import type { EntityManager } from 'typeorm';
import { DataSourceRouter } from '#polystore/data-router';
import { AuditLog } from '../audit/audit-log.service.js';
import { emailBlindIndex, TenantKeyring, type TenantKeys } from '../crypto/tenant-keyring.service.js';
import { SecureStoreException } from '../secure-store.exception.js';
import { openCustomer, sealCustomer } from './customer-cipher.util.js';
import { CustomerRepository } from './customer.repository.js';

type Secure = typeof Contracts.secure.customers;

/** Crash points of the secure store (see CrashPoints): tests kill it there. */
export const SecureCrashPoint = {
  /** A customer (and its idempotency key) committed, the reply not yet sent. */
  CUSTOMER_CREATED: 'secure.customers.create.after-commit',
} as const;

/** A digest of a request's PII fields keyed by the tenant: comparable, not reversible by dictionary. */
function requestDigest(keys: TenantKeys, fields: Record<string, unknown>): string {
  return hmacSha256(keys.emailIndex, `idempotency\n${JSON.stringify(fields)}`).toString('hex');
}

/** Customer PII: sealed at rest under a key per customer, found by blind index, every access audited. */
@Injectable()
export class CustomersService {
  constructor(
    private readonly router: DataSourceRouter,
    private readonly customers: CustomerRepository,
    private readonly keyring: TenantKeyring,
    private readonly audit: AuditLog,
    private readonly idempotent: IdempotentExecutor,
  ) {}

  /**
   * Seals and stores a customer; the audit record commits with it. With an idempotency key, the
   * key commits with it too: a retry with the same key and fields gets the same customer (its
   * id and creation time are what the key stores: never PII), with other fields
   * `IDEMPOTENCY_MISMATCH`. What "the same fields" means is a digest keyed by the tenant, so the
   * key's row holds nothing that a dictionary of emails could be matched against.
   *
   * With `maxCustomers` (the gateway's customers quota), the count is taken in the insert's
   * transaction under a per-tenant lock: at the quota's edge, concurrent creates cannot both
   * pass; the refusal (`QUOTA_EXCEEDED`) rolls the idempotency key back with the rest, so the
   * same key goes through once the quota is raised. A replay of a key that succeeded is answered
   * before any count.
   */
  async create(input: ParsedRequestOf<Secure['create']>): Promise<CustomerView> {
    const keys = await this.keyring.current();
    const fields = { name: input.name, email: input.email, phone: input.phone ?? null };
    const insert = async (manager: EntityManager) => {
      if (input.maxCustomers !== undefined) {
        const used = await this.customers.countUnderQuotaLock(manager);
        if (used >= input.maxCustomers) throw quotaExceeded('customers', input.maxCustomers, used);
      }
      const id = randomUUID();
      const saved = await this.customers.insert(manager, sealCustomer(keys, id, fields));
      await this.audit.appendInTransaction(manager, keys, [
        { action: 'customer.create', subjectId: id, outcome: 'ok' },
      ]);
      return { id, createdAt: saved.createdAt.toISOString() };
    };
    const created = input.idempotencyKey
      ? (
          await this.idempotent.execute(
            input.idempotencyKey,
            'customers.create',
            { fields: requestDigest(keys, fields) },
            insert,
          )
        ).result
      : await this.router.transaction(insert);
    CrashPoints.hit(SecureCrashPoint.CUSTOMER_CREATED);
    return { id: created.id, ...fields, createdAt: created.createdAt };
  }

  /**
   * Reads one customer. The read is audited with its real outcome (found and decrypted, not found,
   * or failed to decrypt), and the answer leaves only once that record is durable.
   */
  async get(id: string): Promise<CustomerView> {
    // One after the other: under a lease scope both use the same connection, never two.
    const keys = await this.keyring.current();
    const row = await this.customers.findById(id);
    const opened = await this.audited('customer.read', id, () => (row ? [openCustomer(keys, row)] : []));
    if (!opened[0]) throw SecureStoreException.customerNotFound(id);
    return opened[0];
  }

  /** Exact-match search by email through the blind index; the search is audited (not the email). */
  async search(email: string): Promise<CustomerView[]> {
    const keys = await this.keyring.current();
    const rows = await this.customers.findByEmailIndex(emailBlindIndex(keys, email));
    return this.audited('customer.search', null, () => rows.map((row) => openCustomer(keys, row)));
  }

  /**
   * Decrypts what a read found, then records the read with its outcome (`ok`, `not_found`, or
   * `failed` when a field does not decrypt: the error is rethrown once that record is durable).
   */
  private async audited(
    action: 'customer.read' | 'customer.search',
    subjectId: string | null,
    open: () => CustomerView[],
  ): Promise<CustomerView[]> {
    let views: CustomerView[];
    try {
      views = open();
    } catch (error) {
      await this.audit.record({ action, subjectId, outcome: 'failed' });
      throw error;
    }
    await this.audit.record({ action, subjectId, outcome: views.length > 0 ? 'ok' : 'not_found' });
    return views;
  }

  /**
   * Erases a customer: its row and its own key go in one statement (crypto-shredding: copies of
   * its fields anywhere stop opening), and the audit records the erasure (id and outcome, no
   * field) in the same transaction. The erasure saga's PII step does the same.
   */
  async delete(id: string): Promise<void> {
    const keys = await this.keyring.current();
    const deleted = await this.router.transaction(async (manager) => {
      const existed = await this.customers.delete(manager, id);
      await this.audit.appendInTransaction(manager, keys, [
        { action: 'customer.delete', subjectId: id, outcome: existed ? 'ok' : 'not_found' },
      ]);
      return existed;
    });
    if (!deleted) throw SecureStoreException.customerNotFound(id);
  }
}
