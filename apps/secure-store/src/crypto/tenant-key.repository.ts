import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import { TenantKeyEntity } from './tenant-key.entity.js';

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

  /** Stores key #1, wrapped by master key `kekVersion`, unless a key already exists (idempotent provisioning). */
  async insertFirst(wrappedKey: Buffer, kekVersion: number): Promise<void> {
    await this.router.run((ds) =>
      ds.query(
        'INSERT INTO tenant_keys (id, wrapped_key, active, kek_version) VALUES (1, $1, true, $2) ON CONFLICT (id) DO NOTHING',
        [wrappedKey, kekVersion],
      ),
    );
  }
}
