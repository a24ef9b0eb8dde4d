import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import { TenantKeyEntity } from './tenant-key.entity.js';
import type { WrappedTenantKey } from './tenant-key-wrap.util.js';

/** Data access for the current tenant's wrapped data keys. */
@Injectable()
export class TenantKeyRepository {
  constructor(private readonly router: DataSourceRouter) {}

  /** The active wrapped key, or null when none exists yet. */
  findActive(): Promise<TenantKeyEntity | null> {
    return this.router.run((ds) =>
      ds.getRepository(TenantKeyEntity).findOne({ where: { active: true }, order: { id: 'DESC' } }),
    );
  }

  /** Every wrapped key of the tenant, active or not, by id. */
  findAll(): Promise<TenantKeyEntity[]> {
    return this.router.run((ds) => ds.getRepository(TenantKeyEntity).find({ order: { id: 'ASC' } }));
  }

  /** Stores key #1, wrapped by master key `kekVersion`, unless a key already exists (idempotent provisioning). */
  async insertFirst(wrappedKey: Buffer, kekVersion: number): Promise<void> {
    await this.router.run((ds) =>
      ds.query(
        'INSERT INTO tenant_keys (id, wrapped_key, active, kek_version) VALUES (1, $1, true, $2) ON CONFLICT (id) DO NOTHING',
        [wrappedKey, kekVersion],
      ),
    );
  }

  /**
   * Replaces the wrap of key `from.id` with `to`, only if the row still holds exactly `from`
   * (compare-and-set on the wrapped value and its version): false when someone else changed it
   * first, and then nothing is written.
   */
  async replaceWrap(from: WrappedTenantKey, to: { wrappedKey: Buffer; kekVersion: number }): Promise<boolean> {
    const result = await this.router.run((ds) =>
      ds
        .getRepository(TenantKeyEntity)
        .update(
          { id: from.id, kekVersion: from.kekVersion, wrappedKey: from.wrappedKey },
          { wrappedKey: to.wrappedKey, kekVersion: to.kekVersion },
        ),
    );
    return result.affected === 1;
  }
}
