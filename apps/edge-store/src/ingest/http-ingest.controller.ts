import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { EdgeStoreException } from '../edge-store.exception.js';
import { DeviceCredentialsService } from '../credentials/device-credentials.service.js';
import { IngestService } from './ingest.service.js';

/**
 * `POST /ingest` with `Authorization: Bearer <device token>`: one reading or up to 1,000.
 * 202 after commit; 400 listing every invalid reading (nothing stored); 401 for a bad or revoked
 * token; 413 for an oversize body; 429 with Retry-After when ingest is saturated; 503 when the
 * tenant's database is down. The tenant and device come from the token, never from the body.
 */
@Controller('ingest')
export class HttpIngestController {
  constructor(
    private readonly credentials: DeviceCredentialsService,
    private readonly ingest: IngestService,
  ) {}

  @Post()
  @HttpCode(202)
  async ingestReadings(@Req() request: FastifyRequest, @Body() body: unknown): Promise<{ accepted: number }> {
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? /^Bearer (\S{1,300})$/.exec(header.trim())?.[1] : undefined;
    if (!token) throw EdgeStoreException.unauthenticated();
    const device = await this.credentials.verify(token);
    return this.ingest.submitHttp(device.tenant, device.deviceId, body);
  }
}
