import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { DeviceCredentials } from '#polystore/messaging';
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
@Controller()
export class HttpIngestController {
  constructor(
    private readonly credentials: DeviceCredentialsService,
    private readonly ingest: IngestService,
  ) {}

  @Post('ingest')
  @HttpCode(202)
  async ingestReadings(@Req() request: FastifyRequest, @Body() body: unknown): Promise<{ accepted: number }> {
    const device = await this.credentials.verify(bearer(request));
    return this.ingest.submitHttp(device.tenant, device.deviceId, body);
  }

  @Post('credentials/renew')
  @HttpCode(200)
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
