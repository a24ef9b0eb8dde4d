import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { CustomerView, ParsedRequestOf, Contracts } from '#polystore/messaging';
import { RequestContextStore } from '#polystore/tenancy';
import { DataSourceRouter } from '#polystore/data-router';
import { AuditLog } from '../audit/audit-log.service.js';
import { emailBlindIndex, TenantKeyring } from '../crypto/tenant-keyring.service.js';
import { SecureStoreException } from '../secure-store.exception.js';
import { openCustomer, sealCustomer } from './customer-cipher.util.js';
import { CustomerRepository } from './customer.repository.js';

type Secure = typeof Contracts.secure.customers;

/** Customer PII: sealed at rest, found by blind index, every access audited. */
@Injectable()
export class CustomersService {
  constructor(
    private readonly router: DataSourceRouter,
    private readonly customers: CustomerRepository,
    private readonly keyring: TenantKeyring,
    private readonly audit: AuditLog,
  ) {}

  /** Seals and stores a customer; the audit record commits with it. */
  async create(input: ParsedRequestOf<Secure['create']>): Promise<CustomerView> {
    const tenant = RequestContextStore.requireTenant();
    const keys = await this.keyring.current();
    const id = randomUUID();
    const fields = { name: input.name, email: input.email, phone: input.phone ?? null };
    const row = await this.router.transaction(async (manager) => {
      const saved = await this.customers.insert(manager, sealCustomer(keys, tenant, id, fields));
      await this.audit.appendInTransaction(manager, keys, [
        { action: 'customer.create', subjectId: id, outcome: 'ok' },
      ]);
      return saved;
    });
    return { id, ...fields, createdAt: row.createdAt.toISOString() };
  }

  /** Reads one customer; the read is audited (found or not) before the answer leaves. */
  async get(id: string): Promise<CustomerView> {
    const tenant = RequestContextStore.requireTenant();
    // One after the other: under a lease scope both use the same connection, never two.
    const keys = await this.keyring.current();
    const row = await this.customers.findById(id);
    await this.audit.record({ action: 'customer.read', subjectId: id, outcome: row ? 'ok' : 'not_found' });
    if (!row) throw SecureStoreException.customerNotFound(id);
    return openCustomer(keys, tenant, row);
  }

  /** Exact-match search by email through the blind index; the search is audited (not the email). */
  async search(email: string): Promise<CustomerView[]> {
    const tenant = RequestContextStore.requireTenant();
    const keys = await this.keyring.current();
    const rows = await this.customers.findByEmailIndex(emailBlindIndex(keys, email));
    await this.audit.record({
      action: 'customer.search',
      subjectId: null,
      outcome: rows.length > 0 ? 'ok' : 'not_found',
    });
    return rows.map((row) => openCustomer(keys, tenant, row));
  }

  /** Deletes a customer's PII; the deletion (or the attempt) is audited in the same transaction. */
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
