import { Injectable } from '@nestjs/common';
import type { DeviceStatus } from '#polystore/messaging';
import { DataSourceRouter } from '#polystore/data-router';
import { Brackets, type EntityManager } from 'typeorm';
import type { DeviceCursor } from './device-cursor.util.js';
import { DeviceEntity } from './device.entity.js';

/** Data access for the current tenant's devices. */
@Injectable()
export class DeviceRepository {
  constructor(private readonly router: DataSourceRouter) {}

  async insert(manager: EntityManager, device: DeviceEntity): Promise<void> {
    await manager.insert(DeviceEntity, device);
  }

  findById(id: string): Promise<DeviceEntity | null> {
    return this.router.run((ds) => ds.getRepository(DeviceEntity).findOneBy({ id }));
  }

  /** Locks the row for the rest of the transaction. */
  findForUpdate(manager: EntityManager, id: string): Promise<DeviceEntity | null> {
    return manager
      .getRepository(DeviceEntity)
      .createQueryBuilder('d')
      .setLock('pessimistic_write')
      .where('d.id = :id', { id })
      .getOne();
  }

  /** Newest first, keyset-paged on (created_at, id); returns up to `limit + 1` rows to detect a next page. */
  page(limit: number, status?: DeviceStatus, after?: DeviceCursor): Promise<DeviceEntity[]> {
    return this.router.run((ds) => {
      const query = ds.getRepository(DeviceEntity).createQueryBuilder('d');
      if (status) query.andWhere('d.status = :status', { status });
      if (after) {
        query.andWhere(
          new Brackets((w) =>
            w
              .where('d.created_at < :createdAt', { createdAt: after.createdAt })
              .orWhere('d.created_at = :createdAt AND d.id < :id', { createdAt: after.createdAt, id: after.id }),
          ),
        );
      }
      return query
        .orderBy('d.created_at', 'DESC')
        .addOrderBy('d.id', 'DESC')
        .take(limit + 1)
        .getMany();
    });
  }

  async save(manager: EntityManager, device: DeviceEntity): Promise<void> {
    await manager.update(
      DeviceEntity,
      { id: device.id },
      {
        status: device.status,
        version: device.version,
        updatedAt: device.updatedAt,
      },
    );
  }

  /** Deletes the device; true when it existed. */
  async delete(manager: EntityManager, id: string): Promise<boolean> {
    return ((await manager.delete(DeviceEntity, { id })).affected ?? 0) > 0;
  }
}
