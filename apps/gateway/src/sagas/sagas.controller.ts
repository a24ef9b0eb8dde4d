import { HttpCode, Controller, Get, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { IdempotencyKey, uuidParam } from '../common.pipes.js';
import { ApiAdminErrors, ApiErrors, ApiTenantErrors } from '../openapi/api-errors.decorator.js';
import { sagaListQuerySchema } from '#polystore/messaging';
import type { z } from 'zod';
import { QueryOf } from '../request-schema.decorator.js';
import { SagaDto, SagaListDto } from './saga.dto.js';
import { SagasService } from './sagas.service.js';

/** OpenAPI description of the `Idempotency-Key` of an operator's retry or skip. */
const OPERATOR_KEY_DOC =
  'A repeat with the same key, saga and action acts once and answers 200 with the saga as it is now (kept IDEMPOTENCY_TTL_MS, 24 h); the key used for another saga or action is 409 IDEMPOTENCY_MISMATCH';

/** A tenant's view of its sagas: state, steps, errors. */
@ApiTags('sagas')
@ApiBearerAuth()
@ApiTenantErrors()
@UseGuards(TenantAuthGuard)
@Controller('v1/sagas')
export class SagasController {
  constructor(private readonly sagas: SagasService) {}

  @Get(':id')
  @ApiOperation({ operationId: 'getSaga', summary: 'A saga of this tenant: state, steps, errors' })
  @ApiOkResponse({ type: SagaDto })
  @ApiErrors({ 404: 'SAGA_NOT_FOUND' })
  get(@Param('id', uuidParam('id')) id: string): Promise<SagaDto> {
    return this.sagas.getForTenant(id);
  }
}

/** Operators: list sagas by state, retry or skip a parked one. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiAdminErrors()
@UseGuards(AdminGuard)
@Controller('admin/sagas')
export class AdminSagasController {
  constructor(private readonly sagas: SagasService) {}

  @Get()
  @ApiOperation({ operationId: 'listSagas', summary: 'List sagas, by state' })
  @ApiOkResponse({ type: SagaListDto })
  async list(@QueryOf(sagaListQuerySchema) query: z.output<typeof sagaListQuerySchema>): Promise<SagaListDto> {
    return { items: await this.sagas.list(query.state) };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'adminGetSaga', summary: "Any tenant's saga" })
  @ApiOkResponse({ type: SagaDto })
  @ApiErrors({ 404: 'SAGA_NOT_FOUND' })
  get(@Param('id', uuidParam('id')) id: string): Promise<SagaDto> {
    return this.sagas.get(id);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ operationId: 'retrySaga', summary: 'Retry what failed in a parked saga' })
  @ApiOkResponse({ type: SagaDto, description: 'Runs the failed compensations (or failed forward steps) again' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: OPERATOR_KEY_DOC })
  @ApiErrors({
    404: 'SAGA_NOT_FOUND',
    409: 'SAGA_NOT_PARKED, or IDEMPOTENCY_MISMATCH: the key was used for another saga or action',
  })
  retry(
    @Param('id', uuidParam('id')) id: string,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<SagaDto> {
    return this.sagas.retry(id, idempotencyKey);
  }

  @Post(':id/skip')
  @HttpCode(200)
  @ApiOperation({ operationId: 'skipSaga', summary: 'Give up on what failed in a parked saga and close it' })
  @ApiOkResponse({ type: SagaDto, description: 'Gives up on what failed and closes the saga' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: OPERATOR_KEY_DOC })
  @ApiErrors({
    404: 'SAGA_NOT_FOUND',
    409: 'SAGA_NOT_PARKED, or IDEMPOTENCY_MISMATCH: the key was used for another saga or action',
  })
  skip(
    @Param('id', uuidParam('id')) id: string,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<SagaDto> {
    return this.sagas.skip(id, idempotencyKey);
  }
}
