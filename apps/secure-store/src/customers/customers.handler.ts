import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type ResponseOf } from '#polystore/messaging';
import { CustomersService } from './customers.service.js';

const C = Contracts.secure.customers;

/** NATS handlers for customers: validate (contract pipe), call the service, return. */
@Controller()
export class CustomersHandler {
  constructor(private readonly customers: CustomersService) {}

  @Handles(C.create)
  create(@Payload() request: ParsedRequestOf<typeof C.create>): Promise<ResponseOf<typeof C.create>> {
    return this.customers.create(request);
  }

  @Handles(C.get)
  get(@Payload() request: ParsedRequestOf<typeof C.get>): Promise<ResponseOf<typeof C.get>> {
    return this.customers.get(request.id);
  }

  @Handles(C.search)
  async search(@Payload() request: ParsedRequestOf<typeof C.search>): Promise<ResponseOf<typeof C.search>> {
    return { items: await this.customers.search(request.email) };
  }

  @Handles(C.delete)
  async delete(@Payload() request: ParsedRequestOf<typeof C.delete>): Promise<ResponseOf<typeof C.delete>> {
    await this.customers.delete(request.id);
    return { id: request.id, deleted: true };
  }
}
