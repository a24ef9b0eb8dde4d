import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import { CustomerRow } from '../customer-row.entity.js';
import { TenantConnection } from './tenant-connection.js';

/**
 * `GET /customers/:id` for the tenant of the Host header: one primary-key lookup on the tenant's
 * DataSource, the row returned as stored. Request-scoped, because its connection is.
 */
@Controller('customers')
export class NaiveCustomersController {
  constructor(private readonly connection: TenantConnection) {}

  @Get(':id')
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<CustomerRow> {
    const dataSource = await this.connection.dataSource();
    const row = await dataSource.getRepository(CustomerRow).findOneBy({ id });
    if (!row) throw new NotFoundException();
    return row;
  }
}
