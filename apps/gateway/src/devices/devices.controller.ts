import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { uuidParam } from '../common.pipes.js';
import { DeviceDto, DevicePageDto, ListDevicesQueryDto } from './device.dto.js';
import { TelemetryPageDto, TelemetryQueryDto } from './telemetry.dto.js';
import { DevicesService } from './devices.service.js';

/** The device registry (reliable store). */
@ApiTags('devices')
@ApiBearerAuth()
@UseGuards(TenantAuthGuard)
@Controller('v1/devices')
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Get()
  @ApiOkResponse({ type: DevicePageDto })
  list(@Query() query: ListDevicesQueryDto): Promise<DevicePageDto> {
    return this.devices.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: DeviceDto })
  get(@Param('id', uuidParam('id')) id: string): Promise<DeviceDto> {
    return this.devices.get(id);
  }

  /** Telemetry of a device (edge store): raw points, paged, or per-bucket aggregates. */
  @Get(':id/telemetry')
  @ApiOkResponse({ type: TelemetryPageDto })
  telemetry(@Param('id', uuidParam('id')) id: string, @Query() query: TelemetryQueryDto): Promise<TelemetryPageDto> {
    return this.devices.telemetry(id, query);
  }
}
