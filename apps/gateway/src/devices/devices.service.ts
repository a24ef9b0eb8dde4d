import { Injectable } from '@nestjs/common';
import {
  Contracts,
  MessageClient,
  type DeviceView,
  type ListDevicesQuery,
  type ResponseOf,
  type TelemetryQuery,
} from '#polystore/messaging';

import { issuedCredential } from './issued-credential.js';

const D = Contracts.reliable.devices;

/** Device registry reads (reliable store), device credentials (edge store) and their history (secure store). */
@Injectable()
export class DevicesService {
  constructor(private readonly messages: MessageClient) {}

  get(id: string): Promise<DeviceView> {
    return this.messages.request(D.get, { id });
  }

  /** The credential a saga issued, to show once (see {@link issuedCredential}). */
  issuedCredential(deviceId: string, sagaOutput: unknown) {
    return issuedCredential(this.messages, deviceId, sagaOutput);
  }

  /** The device's credential generations, newest first (secure store). */
  credentialHistory(deviceId: string): Promise<ResponseOf<typeof Contracts.secure.devices.credentials>> {
    return this.messages.request(Contracts.secure.devices.credentials, { deviceId });
  }

  telemetry(deviceId: string, query: TelemetryQuery): Promise<ResponseOf<typeof Contracts.edge.telemetry.query>> {
    return this.messages.request(Contracts.edge.telemetry.query, {
      deviceId,
      from: new Date(query.from).toISOString(),
      to: new Date(query.to).toISOString(),
      bucket: query.bucket,
      limit: query.limit ?? 1_000,
      cursor: query.cursor,
    });
  }

  list(query: ListDevicesQuery): Promise<{ items: DeviceView[]; nextCursor: string | null }> {
    return this.messages.request(D.list, { status: query.status, limit: query.limit ?? 50, cursor: query.cursor });
  }
}
