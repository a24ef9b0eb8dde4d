import { HttpCode, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiConflictResponse, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { IdempotencyKey, uuidParam } from '../common.pipes.js';
import { SagaDto, SagaListDto, SagaQueryDto } from './saga.dto.js';
import { SagasService } from './sagas.service.js';

/** OpenAPI description of the `Idempotency-Key` of an operator's retry or skip. */
const OPERATOR_KEY_DOC =
  'A repeat with the same key, saga and action acts once and answers 200 with the saga as it is now (kept IDEMPOTENCY_TTL_MS, 24 h); the key used for another saga or action is 409 IDEMPOTENCY_MISMATCH';

/** A tenant's view of its sagas: state, steps, errors. */
@ApiTags('sagas')
@ApiBearerAuth()
@UseGuards(TenantAuthGuard)
@Controller('v1/sagas')
export class SagasController {
  constructor(private readonly sagas: SagasService) {}

  @Get(':id')
  @ApiOkResponse({ type: SagaDto })
  get(@Param('id', uuidParam('id')) id: string): Promise<SagaDto> {
    return this.sagas.getForTenant(id);
  }
}

/** Operators: list sagas by state, retry or skip a parked one. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('admin/sagas')
export class AdminSagasController {
  constructor(private readonly sagas: SagasService) {}

  @Get()
  @ApiOkResponse({ type: SagaListDto })
  async list(@Query() query: SagaQueryDto): Promise<SagaListDto> {
    return { items: await this.sagas.list(query.state) };
  }

  @Get(':id')
  @ApiOkResponse({ type: SagaDto })
  get(@Param('id', uuidParam('id')) id: string): Promise<SagaDto> {
    return this.sagas.get(id);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOkResponse({ type: SagaDto, description: 'Runs the failed compensations (or failed forward steps) again' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: OPERATOR_KEY_DOC })
  @ApiConflictResponse({
    description: 'SAGA_NOT_PARKED, or IDEMPOTENCY_MISMATCH: the key was used for another saga or action',
  })
  retry(
    @Param('id', uuidParam('id')) id: string,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<SagaDto> {
    return this.sagas.retry(id, idempotencyKey);
  }

  @Post(':id/skip')
  @HttpCode(200)
  @ApiOkResponse({ type: SagaDto, description: 'Gives up on what failed and closes the saga' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: OPERATOR_KEY_DOC })
  @ApiConflictResponse({
    description: 'SAGA_NOT_PARKED, or IDEMPOTENCY_MISMATCH: the key was used for another saga or action',
  })
  skip(
    @Param('id', uuidParam('id')) id: string,
    @IdempotencyKey() idempotencyKey: string | undefined,
  ): Promise<SagaDto> {
    return this.sagas.skip(id, idempotencyKey);
  }
}
