import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type ResponseOf } from '#polystore/messaging';
import { TelemetryService } from './telemetry.service.js';

const T = Contracts.edge.telemetry;

/** NATS handlers of the telemetry read side. */
@Controller()
export class TelemetryHandler {
  constructor(private readonly telemetry: TelemetryService) {}

  @Handles(T.query)
  query(@Payload() request: ParsedRequestOf<typeof T.query>): Promise<ResponseOf<typeof T.query>> {
    return this.telemetry.query(request);
  }

  @Handles(T.hourly)
  async hourly(@Payload() request: ParsedRequestOf<typeof T.hourly>): Promise<ResponseOf<typeof T.hourly>> {
    return { items: await this.telemetry.hourly(request) };
  }

  @Handles(T.lastSeen)
  async lastSeen(@Payload() request: ParsedRequestOf<typeof T.lastSeen>): Promise<ResponseOf<typeof T.lastSeen>> {
    return { items: await this.telemetry.lastSeen(request.deviceIds) };
  }

  @Handles(T.erase)
  async erase(@Payload() request: ParsedRequestOf<typeof T.erase>): Promise<ResponseOf<typeof T.erase>> {
    return { deleted: await this.telemetry.erase(request.deviceIds) };
  }
}
