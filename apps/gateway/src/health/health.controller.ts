import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import { SYSTEM_DATA_SOURCE } from '#polystore/catalog';
import { MessageClient, NATS_CONNECTION } from '#polystore/messaging';
import { newRequestContext, RequestContextStore } from '#polystore/tenancy';
import type { NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { StoreDirectory } from '../stores/store-directory.js';

/** One check of the readiness report: `up` (with the store instance that answered) or `down` (with why). */
const INDICATOR = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['up', 'down'] } },
  additionalProperties: true,
};

/** Terminus' report: `status`, and each check (`catalog`, `nats`, each store) `up` or `down` in `info`, `error` and `details`. */
const READINESS_REPORT = {
  type: 'object',
  required: ['status', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: { type: 'object', nullable: true, additionalProperties: INDICATOR },
    error: { type: 'object', nullable: true, additionalProperties: INDICATOR },
    details: { type: 'object', additionalProperties: INDICATOR },
  },
};

/** Liveness (the process answers) and readiness (catalog, NATS and every store answer). */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly messages: MessageClient,
    private readonly directory: StoreDirectory,
    @Inject(SYSTEM_DATA_SOURCE) private readonly catalog: DataSource,
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get('live')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness: the process answers (both ports)' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when everything answers; 503 naming what does not (each store by its service name). */
  @Get('ready')
  // Documented here: terminus documents it only where it can `require` @nestjs/swagger (not in plain Node ESM).
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: the catalog, NATS and every store answer (admin port)',
  })
  @ApiOkResponse({ description: 'Everything answers', schema: READINESS_REPORT })
  @ApiServiceUnavailableResponse({ description: 'What does not answer is `down` in `error`', schema: READINESS_REPORT })
  ready(): Promise<HealthCheckResult> {
    const timeout = this.config.READY_TIMEOUT_MS;
    return this.health.check([
      () =>
        this.indicators
          .check('catalog')
          .attempt(async () => {
            await this.catalog.query('SELECT 1');
          })
          .withTimeout(timeout),
      () =>
        this.indicators
          .check('nats')
          .attempt(async () => {
            if (this.nats.isClosed()) throw new Error('closed');
            await this.nats.flush();
          })
          .withTimeout(timeout),
      ...this.directory.stores.map(
        (entry) => () =>
          this.indicators
            .check(entry.service)
            .attempt(() =>
              RequestContextStore.run(newRequestContext({ deadline: Date.now() + timeout }), async () => {
                const pong = (await this.messages.request(entry.health, {})) as { instance: string };
                return { instance: pong.instance };
              }),
            )
            .withTimeout(timeout),
      ),
    ]);
  }
}
