import { Injectable } from '@nestjs/common';
import { Contracts, MessageClient, type DeviceView, type ResponseOf } from '#polystore/messaging';
import type { ListDevicesQueryDto } from './device.dto.js';
import type { TelemetryQueryDto } from './telemetry.dto.js';

const D = Contracts.reliable.devices;

/** Device registry reads, served by the reliable store. */
@Injectable()
export class DevicesService {
  constructor(private readonly messages: MessageClient) {}

  get(id: string): Promise<DeviceView> {
    return this.messages.request(D.get, { id });
  }

  telemetry(deviceId: string, query: TelemetryQueryDto): Promise<ResponseOf<typeof Contracts.edge.telemetry.query>> {
    return this.messages.request(Contracts.edge.telemetry.query, {
      deviceId,
      from: new Date(query.from).toISOString(),
      to: new Date(query.to).toISOString(),
      bucket: query.bucket,
      limit: query.limit ?? 1_000,
      cursor: query.cursor,
    });
  }

  list(query: ListDevicesQueryDto): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
    return this.messages.request(D.list, { status: query.status, limit: query.limit ?? 50, cursor: query.cursor });
  }
}
