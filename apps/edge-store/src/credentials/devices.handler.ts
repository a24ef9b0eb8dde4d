import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type ResponseOf } from '#polystore/messaging';
import { DeviceCredentialsService } from './device-credentials.service.js';

const D = Contracts.edge.devices;

/**
 * NATS handlers that give devices their credentials and take them away (rotation is a saga step:
 * `edge.saga.rotate-credential`, in `saga/saga-steps.handler.ts`).
 */
@Controller()
export class DevicesHandler {
  constructor(private readonly credentials: DeviceCredentialsService) {}

  @Handles(D.provision)
  provision(@Payload() request: ParsedRequestOf<typeof D.provision>): Promise<ResponseOf<typeof D.provision>> {
    return this.credentials.provision(request.deviceId);
  }

  @Handles(D.credential)
  credential(@Payload() request: ParsedRequestOf<typeof D.credential>): Promise<ResponseOf<typeof D.credential>> {
    return this.credentials.current(request.deviceId, request.generation);
  }

  @Handles(D.revoke)
  async revoke(@Payload() request: ParsedRequestOf<typeof D.revoke>): Promise<ResponseOf<typeof D.revoke>> {
    await this.credentials.revoke(request.deviceId);
    return { deviceId: request.deviceId, revoked: true };
  }
}
