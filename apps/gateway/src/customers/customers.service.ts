import { Injectable } from '@nestjs/common';
import { Contracts, MessageClient, type CustomerView } from '#polystore/messaging';
import type { CreateCustomerDto } from './customer.dto.js';

const C = Contracts.secure.customers;

/** Customer use cases, served by the secure store. */
@Injectable()
export class CustomersService {
  constructor(private readonly messages: MessageClient) {}

  create(input: CreateCustomerDto): Promise<CustomerView> {
    return this.messages.request(C.create, { name: input.name, email: input.email, phone: input.phone ?? null });
  }

  get(id: string): Promise<CustomerView> {
    return this.messages.request(C.get, { id });
  }

  async search(email: string): Promise<CustomerView[]> {
    return (await this.messages.request(C.search, { email })).items;
  }

  async delete(id: string): Promise<void> {
    await this.messages.request(C.delete, { id });
  }
}
