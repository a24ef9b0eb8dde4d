import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import type { EntityManager } from 'typeorm';
import { CustomerEntity } from './customer.entity.js';

/** Data access for the current tenant's customers (always through the data router). */
@Injectable()
export class CustomerRepository {
  constructor(private readonly router: DataSourceRouter) {}

  insert(manager: EntityManager, row: Omit<CustomerEntity, 'createdAt'>): Promise<CustomerEntity> {
    return manager.getRepository(CustomerEntity).save(manager.getRepository(CustomerEntity).create(row));
  }

  findById(id: string): Promise<CustomerEntity | null> {
    return this.router.run((ds) => ds.getRepository(CustomerEntity).findOneBy({ id }));
  }

  findByEmailIndex(emailBidx: Buffer, limit = 100): Promise<CustomerEntity[]> {
    return this.router.run((ds) =>
      ds.getRepository(CustomerEntity).find({ where: { emailBidx }, order: { createdAt: 'ASC' }, take: limit }),
    );
  }

  /** Deletes the customer; true when it existed. */
  async delete(manager: EntityManager, id: string): Promise<boolean> {
    const result = await manager.getRepository(CustomerEntity).delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
