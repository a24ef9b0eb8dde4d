import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CustomerRow } from './customer-row.entity.js';

/** `GET /customers/:id`: one primary-key lookup on the fixed DataSource, the row returned as is. */
@Controller('customers')
export class CustomersController {
  constructor(private readonly dataSource: DataSource) {}

  @Get(':id')
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<CustomerRow> {
    const row = await this.dataSource.getRepository(CustomerRow).findOneBy({ id });
    if (!row) throw new NotFoundException();
    return row;
  }
}
