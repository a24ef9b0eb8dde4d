import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { READING_LIMITS, type DeviceCredentials, type IngestAccepted } from '#polystore/messaging';
import { ApiErrors } from '#polystore/runtime';
import { EdgeStoreException } from '../edge-store.exception.js';
import { DeviceCredentialsService } from '../credentials/device-credentials.service.js';
import { IngestService } from './ingest.service.js';

/**
 * `POST /ingest` with `Authorization: Bearer <device credential>`: one reading or up to 1,000.
 * 202 once the telemetry stream has them on disk (after commit without a broker); 400 listing
 * every invalid reading (nothing stored); 401 for a bad, expired or revoked credential; 413 for
 * an oversize body; 429 with Retry-After over the device's rate limit or when ingest is saturated;
 * 503 when the broker (or, without one, the tenant's database) is down. The tenant and device come
 * from the credential, never from the body.
 *
 * `POST /credentials/renew` with the same header: a fresh credential of the same generation
 * (devices renew before `expiresAt`).
 */
@ApiTags('device-ingest')
@ApiBearerAuth('device')
@ApiErrors({
  401: 'DEVICE_UNAUTHENTICATED: no credential, or a wrong, expired or revoked one',
  413: 'PAYLOAD_TOO_LARGE: the body is over INGEST_BODY_LIMIT_BYTES',
  415: 'UNSUPPORTED_MEDIA_TYPE: the body must be application/json',
  500: 'INTERNAL: logged with the correlation id; the body tells nothing more',
})
@Controller()
export class HttpIngestController {
  constructor(
    private readonly credentials: DeviceCredentialsService,
    private readonly ingest: IngestService,
  ) {}

  @Post('ingest')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'ingestReadings',
    summary: 'Send one reading or up to 1,000 (the tenant and device are those of the credential)',
  })
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: '#/components/schemas/DeviceReading' },
        {
          type: 'array',
          items: { $ref: '#/components/schemas/DeviceReading' },
          minItems: 1,
          maxItems: READING_LIMITS.maxBatch,
        },
      ],
    },
  })
  @ApiResponse({
    status: 202,
    description: 'On the telemetry stream (on disk); a repeated (device, seq) is stored once',
    schema: { $ref: '#/components/schemas/IngestAccepted' },
  })
  @ApiErrors({
    400: 'INVALID_READINGS: nothing stored; `errors` names each refused reading by its index',
    429: 'DEVICE_RATE_LIMITED (over DEVICE_RATE_LIMIT_PER_S) or INGEST_BUSY; wait `Retry-After` seconds',
    503: 'BROKER_UNAVAILABLE (or the tenant database, without a broker); retry after `Retry-After`',
  })
  async ingestReadings(@Req() request: FastifyRequest, @Body() body: unknown): Promise<IngestAccepted> {
    const device = await this.credentials.verify(bearer(request));
    return this.ingest.submitHttp(device.tenant, device.deviceId, body);
  }

  @Post('credentials/renew')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'renewDeviceCredential',
    summary: 'A fresh credential of the same generation (renew before `expiresAt`)',
  })
  @ApiOkResponse({ schema: { $ref: '#/components/schemas/DeviceCredentials' } })
  @ApiErrors({ 503: 'SERVICE_UNAVAILABLE: the tenant database cannot be reached' })
  renew(@Req() request: FastifyRequest): Promise<DeviceCredentials> {
    return this.credentials.renew(bearer(request));
  }
}

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const token = typeof header === 'string' ? /^Bearer (\S{1,4096})$/.exec(header.trim())?.[1] : undefined;
  if (!token) throw EdgeStoreException.unauthenticated();
  return token;
}
