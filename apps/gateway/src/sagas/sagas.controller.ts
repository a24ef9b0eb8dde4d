import { HttpCode, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { uuidParam } from '../common.pipes.js';
import { SagaDto, SagaListDto, SagaQueryDto } from './saga.dto.js';
import { SagasService } from './sagas.service.js';

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
  retry(@Param('id', uuidParam('id')) id: string): Promise<SagaDto> {
    return this.sagas.retry(id);
  }

  @Post(':id/skip')
  @HttpCode(200)
  @ApiOkResponse({ type: SagaDto, description: 'Gives up on what failed and closes the saga' })
  skip(@Param('id', uuidParam('id')) id: string): Promise<SagaDto> {
    return this.sagas.skip(id);
  }
}
