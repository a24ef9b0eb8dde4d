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

  /** Stores key #1 unless a key already exists (idempotent provisioning). */
  async insertFirst(wrappedKey: Buffer): Promise<void> {
    await this.router.run((ds) =>
      ds.query('INSERT INTO tenant_keys (id, wrapped_key, active) VALUES (1, $1, true) ON CONFLICT (id) DO NOTHING', [
        wrappedKey,
      ]),
    );
  }
}
