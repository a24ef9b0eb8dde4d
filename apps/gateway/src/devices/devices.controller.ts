import { Controller, Delete, Get, Param, Post, Res, UseGuards } from '@nestjs/common';
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
import type { FastifyReply } from 'fastify';
import { DeviceRegistrationService, type SagaAnswer } from './device-registration.service.js';
import { KeyArea } from '../auth/route-access.js';
import { ApiBodyErrors, ApiErrors, ApiTenantErrors } from '../openapi/api-errors.decorator.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { IdempotencyKey, uuidParam } from '../common.pipes.js';
import {
  AcceptedDto,
  CredentialHistoryDto,
  DeviceCredentialDto,
  DeviceDto,
  DevicePageDto,
  RegisteredDeviceDto,
} from './device.dto.js';
import { TelemetryPageDto } from './telemetry.dto.js';
import {
  listDevicesQuerySchema,
  telemetryQuerySchema,
  type ListDevicesQuery,
  type RegisterDeviceBody,
  type TelemetryQuery,
} from '#polystore/messaging';
import { BodyOf, QueryOf } from '../request-schema.decorator.js';
import { DevicesService } from './devices.service.js';

/** The device registry (reliable store). */
@ApiTags('devices')
@ApiBearerAuth()
@ApiTenantErrors()
@UseGuards(TenantAuthGuard)
@KeyArea('devices')
@Controller('v1/devices')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly registration: DeviceRegistrationService,
  ) {}

  /** Registers a device (saga: registry, credential, edge provisioning, activation). */
  @Post()
  @ApiOperation({
    operationId: 'registerDevice',
    summary: 'Register a device: registry, credential, edge provisioning, activation (saga)',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'A retried request with the same key joins the same registration and gets its outcome: 201 (the token is shown only the first time), 202 while it runs, or its final error (409 OPERATION_ABANDONED when a store stayed unreachable past the saga window and the registration was undone)',
  })
  @ApiCreatedResponse({ type: RegisteredDeviceDto })
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'Still running: follow GET /v1/sagas/{sagaId}' })
  @ApiErrors({
    409: 'IDEMPOTENCY_MISMATCH: the key was used with another body; OPERATION_ABANDONED: a store stayed unreachable and the registration was undone (`sagaId`)',
  })
  @ApiBodyErrors()
  async register(
    @BodyOf('RegisterDeviceRequest') body: RegisterDeviceBody,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RegisteredDeviceDto | AcceptedDto> {
    const answer = await this.registration.register(body, idempotencyKey);
    sendStatus(reply, answer);
    return answer.body;
  }

  /**
   * Rotates the device's credential (saga: the edge store issues the next generation and refuses
   * the old one, live MQTT connections closed; the secure store records it): 201 with the new one
   * (shown this once), 202 while it runs.
   */
  @Post(':id/credentials')
  @ApiOperation({
    operationId: 'rotateDeviceCredential',
    summary: "Rotate a device's credential (the old one is refused from now on)",
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'A retried request with the same key joins the same rotation (one new generation): 201 (the token is shown only the first time), 202 while it runs, or its final error',
  })
  @ApiCreatedResponse({ type: DeviceCredentialDto })
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'Still running: follow GET /v1/sagas/{sagaId}' })
  @ApiErrors({
    404: 'DEVICE_NOT_FOUND',
    409: 'IDEMPOTENCY_MISMATCH: the key was used for another device',
  })
  async rotateCredential(
    @Param('id', uuidParam('id')) id: string,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DeviceCredentialDto | AcceptedDto> {
    await this.devices.get(id);
    const answer = await this.registration.rotate(id, idempotencyKey);
    sendStatus(reply, answer);
    return answer.body;
  }

  /** The history of the device's credential (secure store): every generation, newest first. */
  @Get(':id/credentials')
  @ApiOperation({
    operationId: 'listDeviceCredentials',
    summary: "A device's credential generations: when each was issued and revoked (never the credential)",
  })
  @ApiOkResponse({ type: CredentialHistoryDto })
  @ApiErrors({ 404: 'DEVICE_NOT_FOUND: no credential of this device was ever recorded' })
  credentials(@Param('id', uuidParam('id')) id: string): Promise<CredentialHistoryDto> {
    return this.devices.credentialHistory(id);
  }

  /** Deletes a device (forward-only saga: edge, secure, then the registry). */
  @Delete(':id')
  @ApiOperation({ operationId: 'deleteDevice', summary: 'Delete a device: edge, secure, then the registry (saga)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'Still running: follow GET /v1/sagas/{sagaId}' })
  @ApiErrors({ 404: 'DEVICE_NOT_FOUND' })
  async delete(
    @Param('id', uuidParam('id')) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedDto | undefined> {
    await this.devices.get(id);
    const answer = await this.registration.delete(id);
    sendStatus(reply, answer);
    return answer.status === 202 ? answer.body : undefined;
  }

  @Get()
  @ApiOperation({ operationId: 'listDevices', summary: 'List devices, a page at a time' })
  @ApiOkResponse({ type: DevicePageDto })
  list(@QueryOf(listDevicesQuerySchema) query: ListDevicesQuery): Promise<DevicePageDto> {
    return this.devices.list(query);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getDevice', summary: 'Get a device' })
  @ApiOkResponse({ type: DeviceDto })
  @ApiErrors({ 404: 'DEVICE_NOT_FOUND' })
  get(@Param('id', uuidParam('id')) id: string): Promise<DeviceDto> {
    return this.devices.get(id);
  }

  /** Telemetry of a device (edge store): raw points, paged, or per-bucket aggregates. */
  @Get(':id/telemetry')
  @ApiOperation({
    operationId: 'getDeviceTelemetry',
    summary: "A device's telemetry: raw points, paged, or per-bucket aggregates",
  })
  @ApiOkResponse({ type: TelemetryPageDto })
  @ApiErrors({ 404: 'DEVICE_NOT_FOUND' })
  telemetry(
    @Param('id', uuidParam('id')) id: string,
    @QueryOf(telemetryQuerySchema) query: TelemetryQuery,
  ): Promise<TelemetryPageDto> {
    return this.devices.telemetry(id, query);
  }
}

/** The status of a saga's answer, and for a 202 the saga's status URL in `Location`. */
function sendStatus(reply: FastifyReply, answer: SagaAnswer<unknown>): void {
  void reply.status(answer.status);
  if (answer.status === 202) void reply.header('location', answer.body.statusUrl);
}
