import { Injectable } from '@nestjs/common';
import { Contracts, MessageClient, type DeviceView } from '#polystore/messaging';
import type { ListDevicesQueryDto } from './device.dto.js';

const D = Contracts.reliable.devices;

/** Device registry reads, served by the reliable store. */
@Injectable()
export class DevicesService {
  constructor(private readonly messages: MessageClient) {}

  get(id: string): Promise<DeviceView> {
    return this.messages.request(D.get, { id });
  }

  list(query: ListDevicesQueryDto): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
    return this.messages.request(D.list, { status: query.status, limit: query.limit ?? 50, cursor: query.cursor });
  }
}
