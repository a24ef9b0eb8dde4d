import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import type { EntityManager, SelectQueryBuilder } from 'typeorm';
import type { SealedCustomer } from './customer-cipher.util.js';
import { CustomerKeyEntity } from './customer-key.entity.js';
import { CustomerKeyScheme } from './customer-key.util.js';
import { CustomerEntity } from './customer.entity.js';

/** Data access for the current tenant's customers (always through the data router). */
@Injectable()
export class CustomerRepository {
  constructor(private readonly router: DataSourceRouter) {}

  /**
   * Inserts the customer and its wrapped key in **one statement** (the key row references the
   * customer row; both commit with `manager`'s transaction). Returns the row's creation time.
   */
  async insert(manager: EntityManager, { row, wrappedKey }: SealedCustomer): Promise<{ createdAt: Date }> {
    const rows: Array<{ created_at: Date }> = await manager.query(
      `WITH customer AS (
         INSERT INTO customers (id, name_ct, email_ct, phone_ct, email_bidx, key_id, key_scheme)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING created_at
       ), customer_key AS (
         INSERT INTO customer_keys (customer_id, wrapped_key) VALUES ($1, $8)
       )
       SELECT created_at FROM customer`,
      [row.id, row.nameCt, row.emailCt, row.phoneCt, row.emailBidx, row.keyId, row.keyScheme, wrappedKey],
    );
    return { createdAt: rows[0]!.created_at };
  }

  /**
   * How many customers the tenant has, counted after taking a transaction-scoped advisory lock of
   * the tenant's customers quota: two creates at the quota's edge take it in turn, so the second
   * counts the first's row once it committed (or sees it rolled back). Only creates under a quota
   * take it; erasures never wait on it.
   */
  async countUnderQuotaLock(manager: EntityManager): Promise<number> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/customers-quota', 0))`);
    // A statement of its own: under READ COMMITTED its snapshot is taken after the lock was granted.
    const rows: Array<{ n: string }> = await manager.query('SELECT count(*)::text AS n FROM customers');
    return Number(rows[0]!.n);
  }

  /** The customer with its wrapped key (one statement), or null. */
  findById(id: string): Promise<CustomerEntity | null> {
    return this.router.run((ds) => withKey(ds).where('c.id = :id', { id }).getOne());
  }

  /** Customers whose blind index is `emailBidx`, oldest first, each with its wrapped key (one statement). */
  findByEmailIndex(emailBidx: Buffer, limit = 100): Promise<CustomerEntity[]> {
    return this.router.run((ds) =>
      withKey(ds).where('c.emailBidx = :emailBidx', { emailBidx }).orderBy('c.createdAt', 'ASC').limit(limit).getMany(),
    );
  }

  /**
   * Deletes the customer; true when it existed. Its key row goes with it in the same statement
   * (`customer_keys` references it `ON DELETE CASCADE`), so no erase path can leave the key behind.
   */
  async delete(manager: EntityManager, id: string): Promise<boolean> {
    const result = await manager.getRepository(CustomerEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Up to `limit` rows still sealed with the tenant's field subkey, locked until `manager`'s
   * transaction ends (rows another transaction holds, e.g. an erasure, are skipped).
   */
  lockSealedWithTenantKey(manager: EntityManager, limit: number): Promise<CustomerEntity[]> {
    return manager
      .getRepository(CustomerEntity)
      .createQueryBuilder('c')
      .where('c.keyScheme = :scheme', { scheme: CustomerKeyScheme.TENANT_FIELD_KEY })
      .orderBy('c.id', 'ASC')
      .limit(limit)
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .getMany();
  }

  /** How many rows are still sealed with the tenant's field subkey. */
  async countSealedWithTenantKey(): Promise<number> {
    return this.router.run((ds) =>
      ds.getRepository(CustomerEntity).countBy({ keyScheme: CustomerKeyScheme.TENANT_FIELD_KEY }),
    );
  }

  /**
   * Writes rows sealed again under keys of their own, with those keys, in one statement: a row
   * is replaced only while it is still sealed with the tenant field key, and its key is written
   * only if the row was. Returns how many rows were replaced.
   */
  async replaceSealedWithOwnKeys(manager: EntityManager, sealed: readonly SealedCustomer[]): Promise<number> {
    if (sealed.length === 0) return 0;
    const column = <K extends keyof SealedCustomer['row']>(key: K) => sealed.map((s) => s.row[key]);
    const rows: unknown[] = await manager.query(
      `WITH resealed AS (
         UPDATE customers c
            SET name_ct = u.name_ct, email_ct = u.email_ct, phone_ct = u.phone_ct,
                key_id = u.key_id, key_scheme = $7
           FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[], $5::integer[])
                AS u(id, name_ct, email_ct, phone_ct, key_id)
          WHERE c.id = u.id AND c.key_scheme = $8
         RETURNING c.id
       )
       INSERT INTO customer_keys (customer_id, wrapped_key)
       SELECT k.id, k.wrapped_key
         FROM unnest($1::uuid[], $6::bytea[]) AS k(id, wrapped_key)
         JOIN resealed USING (id)
       RETURNING customer_id`,
      [
        column('id'),
        column('nameCt'),
        column('emailCt'),
        column('phoneCt'),
        column('keyId'),
        sealed.map((s) => s.wrappedKey),
        CustomerKeyScheme.CUSTOMER_KEY,
        CustomerKeyScheme.TENANT_FIELD_KEY,
      ],
    );
    return rows.length;
  }
}

/** Customers joined with their wrapped keys (a row sealed with the tenant field key has none). */
function withKey(manager: EntityManager): SelectQueryBuilder<CustomerEntity> {
  return manager
    .getRepository(CustomerEntity)
    .createQueryBuilder('c')
    .leftJoinAndMapOne('c.customerKey', CustomerKeyEntity, 'k', 'k.customerId = c.id');
}
