import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authenticated-request.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';

/** The window of a tenant's recent error rate, in whole minutes. */
export const ERROR_WINDOW_MINUTES = 5;
/** Tenants remembered at most: those seen most recently (an older one is forgotten first). */
export const ERROR_RATE_TENANTS = 1_000;

interface MinuteBucket {
  readonly minute: number;
  requests: number;
  errors: number;
}

/** A tenant's requests and failed ones (5xx) in the window. */
export interface TenantErrorRate {
  readonly requests: number;
  readonly errors: number;
}

/**
 * Per tenant, the tenant API requests this gateway replica answered in the last
 * {@link ERROR_WINDOW_MINUTES} minutes and how many failed (a 5xx: the service's failure, not
 * the client's), in one-minute buckets. Bounded: at most {@link ERROR_RATE_TENANTS} tenants, the
 * least recently seen forgotten first, and {@link ERROR_WINDOW_MINUTES} buckets each; nothing
 * goes to the metrics (they have no tenant label). Per replica: each gateway counts what it served.
 */
export class TenantErrorRates {
  /** In order of last request, oldest first (a Map keeps insertion order; a request moves its tenant last). */
  private readonly tenants = new Map<string, MinuteBucket[]>();

  constructor(
    private readonly maxTenants = ERROR_RATE_TENANTS,
    private readonly windowMinutes = ERROR_WINDOW_MINUTES,
  ) {}

  get size(): number {
    return this.tenants.size;
  }

  record(tenant: string, failed: boolean, now = Date.now()): void {
    const minute = Math.floor(now / 60_000);
    const buckets = this.tenants.get(tenant) ?? [];
    this.tenants.delete(tenant);
    this.tenants.set(tenant, buckets);
    while (buckets.length > 0 && buckets[0]!.minute <= minute - this.windowMinutes) buckets.shift();
    let bucket = buckets.at(-1);
    if (!bucket || bucket.minute !== minute) {
      bucket = { minute, requests: 0, errors: 0 };
      buckets.push(bucket);
    }
    bucket.requests++;
    if (failed) bucket.errors++;
    if (this.tenants.size > this.maxTenants) this.tenants.delete(this.tenants.keys().next().value!);
  }

  /** The tenant's figures over the window ending `now`; null when it made no request in it (or was forgotten). */
  of(tenant: string, now = Date.now()): TenantErrorRate | null {
    const oldest = Math.floor(now / 60_000) - this.windowMinutes;
    let requests = 0;
    let errors = 0;
    for (const bucket of this.tenants.get(tenant) ?? []) {
      if (bucket.minute <= oldest) continue;
      requests += bucket.requests;
      errors += bucket.errors;
    }
    return requests === 0 ? null : { requests, errors };
  }
}

/**
 * The gateway's {@link TenantErrorRates}, fed by an `onResponse` hook on every authenticated
 * tenant request (installed when the console is enabled).
 */
@Injectable()
export class TenantErrorRatesHook extends TenantErrorRates implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    super();
  }

  onModuleInit(): void {
    if (!this.config.CONSOLE_ENABLED) return;
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onResponse', (request, reply, done) => {
      const tenant = (request as AuthenticatedRequest).polystore?.tenant;
      if (tenant) this.record(tenant, reply.statusCode >= 500);
      done();
    });
  }
}
