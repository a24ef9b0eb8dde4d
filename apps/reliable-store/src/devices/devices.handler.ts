import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type ResponseOf } from '#polystore/messaging';
import { DevicesService } from './devices.service.js';

const D = Contracts.reliable.devices;

/** NATS handlers of the device registry. */
@Controller()
export class DevicesHandler {
  constructor(private readonly devices: DevicesService) {}

  @Handles(D.create)
  create(@Payload() request: ParsedRequestOf<typeof D.create>): Promise<ResponseOf<typeof D.create>> {
    return this.devices.create(request);
  }

  @Handles(D.get)
  get(@Payload() request: ParsedRequestOf<typeof D.get>): Promise<ResponseOf<typeof D.get>> {
    return this.devices.get(request.id);
  }

  @Handles(D.list)
  list(@Payload() request: ParsedRequestOf<typeof D.list>): Promise<ResponseOf<typeof D.list>> {
    return this.devices.list(request);
  }

  @Handles(D.updateStatus)
  updateStatus(@Payload() request: ParsedRequestOf<typeof D.updateStatus>): Promise<ResponseOf<typeof D.updateStatus>> {
    return this.devices.updateStatus(request);
  }

  @Handles(D.delete)
  delete(@Payload() request: ParsedRequestOf<typeof D.delete>): Promise<ResponseOf<typeof D.delete>> {
    return this.devices.delete(request);
  }
}
