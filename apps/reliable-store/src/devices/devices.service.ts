import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { classifySqlError } from '#polystore/data-router';
import { IdempotentExecutor } from '#polystore/idempotency';
import type { Contracts, DeviceView, ParsedRequestOf } from '#polystore/messaging';
import { CrashPoints } from '#polystore/platform';
import { RequestContextStore } from '#polystore/tenancy';
import type { EntityManager } from 'typeorm';
import { OutboxRelay } from '../outbox/outbox-relay.service.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { ReliableStoreException } from '../reliable-store.exception.js';
import { decodeCursor, encodeCursor } from './device-cursor.util.js';
import { canTransition } from './device-status.util.js';
import { DeviceEntity } from './device.entity.js';
import { DeviceRepository } from './device.repository.js';

type D = typeof Contracts.reliable.devices;

/** The device registry: every change is idempotent by key and emits an outbox event with it. */
@Injectable()
export class DevicesService {
  constructor(
    private readonly devices: DeviceRepository,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
    private readonly idempotent: IdempotentExecutor,
  ) {}

  async create(request: ParsedRequestOf<D['create']>): Promise<DeviceView> {
    const { idempotencyKey, ...fields } = request;
    const { result } = await this.idempotent.execute(idempotencyKey, 'devices.create', fields, async (manager) => {
      const now = new Date();
      const device = Object.assign(new DeviceEntity(), {
        id: fields.id ?? randomUUID(),
        name: fields.name,
        model: fields.model,
        status: fields.status,
        customerId: fields.customerId ?? null,
        version: 1,
        createdAt: now,
        updatedAt: now,
      });
      await this.insertNew(manager, device);
      await this.outbox.append(manager, {
        type: 'device.created',
        deviceId: device.id,
        status: device.status,
        version: 1,
      });
      return toView(device);
    });
    CrashPoints.hit('reliable.devices.create.after-commit');
    this.relay.notify(RequestContextStore.requireTenant());
    return result;
  }

  async get(id: string): Promise<DeviceView> {
    const device = await this.devices.findById(id);
    if (!device) throw ReliableStoreException.deviceNotFound(id);
    return toView(device);
  }

  async list(request: ParsedRequestOf<D['list']>): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
    const rows = await this.devices.page(
      request.limit,
      request.status,
      request.cursor ? decodeCursor(request.cursor) : undefined,
    );
    const items = rows.slice(0, request.limit);
    const last = items[items.length - 1];
    return { items: items.map(toView), nextCursor: rows.length > request.limit && last ? encodeCursor(last) : null };
  }

  /** Changes the status (row locked); `expectedVersion` turns a concurrent change into a 409. */
  async updateStatus(request: ParsedRequestOf<D['updateStatus']>): Promise<DeviceView> {
    const { idempotencyKey, ...change } = request;
    const { result } = await this.idempotent.execute(
      idempotencyKey,
      'devices.update-status',
      change,
      async (manager) => {
        const device = await this.devices.findForUpdate(manager, change.id);
        if (!device) throw ReliableStoreException.deviceNotFound(change.id);
        if (change.expectedVersion !== undefined && device.version !== change.expectedVersion) {
          throw ReliableStoreException.versionConflict(device.id, change.expectedVersion, device.version);
        }
        if (device.status === change.status) return toView(device);
        if (!canTransition(device.status, change.status))
          throw ReliableStoreException.invalidTransition(device.status, change.status);
        device.status = change.status;
        device.version += 1;
        device.updatedAt = new Date();
        await this.devices.save(manager, device);
        await this.outbox.append(manager, {
          type: 'device.status_changed',
          deviceId: device.id,
          status: device.status,
          version: device.version,
        });
        return toView(device);
      },
    );
    this.relay.notify(RequestContextStore.requireTenant());
    return result;
  }

  async delete(request: ParsedRequestOf<D['delete']>): Promise<{ id: string; deleted: true }> {
    const { idempotencyKey, id } = request;
    const { result } = await this.idempotent.execute(idempotencyKey, 'devices.delete', { id }, async (manager) => {
      if (!(await this.devices.delete(manager, id))) throw ReliableStoreException.deviceNotFound(id);
      await this.outbox.append(manager, { type: 'device.deleted', deviceId: id, status: null, version: null });
      return { id, deleted: true as const };
    });
    this.relay.notify(RequestContextStore.requireTenant());
    return result;
  }

  private async insertNew(manager: EntityManager, device: DeviceEntity): Promise<void> {
    try {
      await this.devices.insert(manager, device);
    } catch (error) {
      if (classifySqlError(error) === 'unique_violation') throw ReliableStoreException.deviceExists(device.id);
      throw error;
    }
  }
}

function toView(device: DeviceEntity): DeviceView {
  return {
    id: device.id,
    name: device.name,
    model: device.model,
    status: device.status,
    customerId: device.customerId,
    version: device.version,
    createdAt: device.createdAt.toISOString(),
    updatedAt: device.updatedAt.toISOString(),
  };
}
