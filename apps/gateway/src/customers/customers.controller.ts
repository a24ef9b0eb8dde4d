import { Controller, Delete, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ReadsOnly } from '../auth/route-access.js';
import { ApiBodyErrors, ApiErrors, ApiTenantErrors } from '../openapi/api-errors.decorator.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { IDEMPOTENCY_KEY_DOC, IdempotencyKey, uuidParam } from '../common.pipes.js';
import { CustomerDto, CustomerListDto, ErasureAcceptedDto } from './customer.dto.js';
import { CustomersService } from './customers.service.js';
import { BodyOf } from '../request-schema.decorator.js';
import type { CreateCustomerBody } from '#polystore/messaging';

/** Customer PII (secure store). Search is a POST so emails stay out of URLs and access logs. */
@ApiTags('customers')
@ApiBearerAuth()
@ApiTenantErrors()
@UseGuards(TenantAuthGuard)
@Controller('v1/customers')
export class CustomersController {
  constructor(private readonly customers: CustomersService) {}

  @Post()
  @ApiOperation({ operationId: 'createCustomer', summary: 'Create a customer' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: IDEMPOTENCY_KEY_DOC })
  @ApiCreatedResponse({ type: CustomerDto })
  @ApiErrors({ 409: 'IDEMPOTENCY_MISMATCH: the key was used with another body' })
  @ApiBodyErrors()
  create(
    @BodyOf('CreateCustomerRequest') body: CreateCustomerBody,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<CustomerDto> {
    return this.customers.create(body, idempotencyKey);
  }

  @Post('search')
  @ReadsOnly()
  @HttpCode(200)
  @ApiOperation({ operationId: 'searchCustomers', summary: 'Find customers by email (exact match)' })
  @ApiOkResponse({ type: CustomerListDto })
  @ApiBodyErrors()
  async search(@BodyOf('SearchCustomersRequest') body: { email: string }): Promise<CustomerListDto> {
    return { items: await this.customers.search(body.email) };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getCustomer', summary: 'Get a customer' })
  @ApiOkResponse({ type: CustomerDto })
  @ApiErrors({ 404: 'CUSTOMER_NOT_FOUND' })
  get(@Param('id', uuidParam('id')) id: string): Promise<CustomerDto> {
    return this.customers.get(id);
  }

  /** Erases a customer everywhere (saga): 204 when done, 202 `{sagaId}` when it goes on in the background. */
  @Delete(':id')
  @ApiOperation({ operationId: 'eraseCustomer', summary: 'Erase a customer everywhere (saga)' })
  @ApiNoContentResponse({ description: 'Erased' })
  @ApiAcceptedResponse({ type: ErasureAcceptedDto, description: 'Erasure continues: follow GET /v1/sagas/{sagaId}' })
  @ApiErrors({ 404: 'CUSTOMER_NOT_FOUND' })
  async delete(
    @Param('id', uuidParam('id')) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ErasureAcceptedDto | undefined> {
    const sagaId = await this.customers.erase(id);
    void reply.status(sagaId ? 202 : 204);
    return sagaId ? { sagaId } : undefined;
  }
}
