import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import rateLimit, { normalizeIP, type RateLimitOptions } from '@fastify/rate-limit';
import type { ApiKeyPrincipal } from '#polystore/catalog';
import { correlationIdOf, skipAccessLog, type ErrorBody } from '#polystore/runtime';
import { parseHost } from '#polystore/tenancy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { GatewayErrorCode, GatewayException, rateLimitMessage } from '../gateway.exception.js';

/** The verdict of one counter: how many calls its window still allows, and when it ends. */
interface Count {
  readonly exceeded: boolean;
  readonly remaining: number;
  /** Until the window ends. */
  readonly ttlMs: number;
  readonly retryAfterSeconds: number;
}

/** One counter of `@fastify/rate-limit` (`createRateLimit`): `max` calls per `windowMs` per subject. */
type Counter = (request: FastifyRequest, subject: string, increment?: boolean) => Promise<Count>;

/**
 * The gateway's request limits, on `@fastify/rate-limit`'s counters: per API key and per tenant
 * (`RATE_LIMIT_PER_KEY`, `RATE_LIMIT_PER_TENANT`, requests per second, fixed one-second windows),
 * and failed authentications per client address (`AUTH_FAILURE_LIMIT_PER_MIN`, one-minute
 * windows). Counters live in Redis when `REDIS_URL` is set, so every replica shares them, else in
 * this process's memory.
 *
 * An address past its failed authentications is refused in an `onRequest` hook, for every request
 * on a tenant host, before routing, guards or any lookup: a flood of bad keys costs a counter read
 * per request, then (the refusal remembered here until the window ends) not even that.
 *
 * Redis trouble never refuses a request: a counter that cannot be read or incremented lets the
 * request through (the limits protect the service; they must not become its outage), and every
 * Redis command gives up after 500 ms.
 */
@Injectable()
export class RequestLimits implements OnApplicationShutdown {
  private readonly logger = new Logger(RequestLimits.name);
  private redis?: Redis;
  private perKey?: Counter;
  private perTenant?: Counter;
  private authFailures?: Counter;
  /** Addresses known to be refused, until their failure window ends (no counter read for them). */
  private readonly refused = new LRUCache<string, number>({ max: 100_000 });

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * Registers `@fastify/rate-limit` and the refused-address hook on the gateway's Fastify
   * instance. `startGateway` calls it after `NestFactory.create` and before `listen`: a plugin
   * registered later (during Nest's init, as from `onModuleInit`) is loaded after Nest set up its
   * body parsing, and Fastify's own error handler then answers body errors instead of the HTTP
   * error filter (`FST_ERR_CTP_*` codes instead of `MALFORMED_JSON`, `PAYLOAD_TOO_LARGE`).
   */
  async install(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    this.redis = this.config.REDIS_URL ? await this.connectRedis(this.config.REDIS_URL) : undefined;
    await fastify.register(rateLimit, {
      global: false,
      // Stacks sharing a Redis (and a NATS server) keep apart by their subject prefix.
      ...(this.redis ? { redis: this.redis, nameSpace: `${this.config.NATS_SUBJECT_PREFIX}:rate-limit:` } : {}),
      skipOnError: true,
    });
    const counter = (scope: string, max: number, windowMs: number) =>
      max > 0 ? counterOf(fastify, scope, max, windowMs) : undefined;
    this.perKey = counter('key', this.config.RATE_LIMIT_PER_KEY, 1_000);
    this.perTenant = counter('tenant', this.config.RATE_LIMIT_PER_TENANT, 1_000);
    this.authFailures = counter('auth-failures', this.config.AUTH_FAILURE_LIMIT_PER_MIN, 60_000);
    if (this.authFailures) fastify.addHook('onRequest', (request, reply) => this.refuseRefusedAddress(request, reply));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis?.status === 'ready') await this.redis.quit().catch(() => undefined);
    else this.redis?.disconnect();
  }

  /**
   * Seconds until the request's address may try to authenticate again (too many failures in a
   * minute, whatever host they came on), or undefined: the console's login asks before it
   * compares the admin token.
   */
  refusedFor(request: FastifyRequest): Promise<number | undefined> {
    return this.refusedForSeconds(request);
  }

  /** Counts a failed authentication (a 401) against the request's address. */
  async countAuthFailure(request: FastifyRequest): Promise<void> {
    await this.authFailures?.(request, addressOf(request));
  }

  /** Counts an authenticated request against its key and its tenant; 429 when either is over its limit. */
  async admit(request: FastifyRequest, principal: ApiKeyPrincipal): Promise<void> {
    const [key, tenant] = await Promise.all([
      this.perKey?.(request, principal.keyId),
      this.perTenant?.(request, principal.tenant),
    ]);
    if (key?.exceeded) throw GatewayException.rateLimited(GatewayErrorCode.KEY_RATE_LIMITED, key.retryAfterSeconds);
    if (tenant?.exceeded)
      throw GatewayException.rateLimited(GatewayErrorCode.TENANT_RATE_LIMITED, tenant.retryAfterSeconds);
  }

  /**
   * The `onRequest` hook: on a tenant host, a request from a refused address is answered 429 here,
   * before routing, with the body the HTTP error filter gives a coded error (built directly: no
   * exception and stack trace per request of a flood), and left out of the access log (the
   * refusal itself is logged once; the HTTP metrics count every answer).
   */
  private async refuseRefusedAddress(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!isTenantHost(request, this.config.BASE_DOMAIN)) return;
    const retryAfterSeconds = await this.refusedForSeconds(request);
    if (retryAfterSeconds === undefined) return;
    const code = GatewayErrorCode.TOO_MANY_AUTH_FAILURES;
    const correlationId = correlationIdOf(request.raw);
    skipAccessLog(request);
    await reply
      .code(429)
      .header('Retry-After', String(retryAfterSeconds))
      .header('x-request-id', correlationId)
      .send({
        statusCode: 429,
        code,
        message: rateLimitMessage(code, retryAfterSeconds),
        correlationId,
      } satisfies ErrorBody);
  }

  /** Seconds until the request's address may try again, or undefined when it is not refused. */
  private async refusedForSeconds(request: FastifyRequest): Promise<number | undefined> {
    if (!this.authFailures) return undefined;
    const address = addressOf(request);
    const until = this.refused.get(address);
    const now = Date.now();
    if (until !== undefined && until > now) return Math.max(1, Math.ceil((until - now) / 1_000));
    const count = await this.authFailures(request, address, false);
    if (count.remaining > 0) return undefined;
    this.refused.set(address, now + count.ttlMs);
    this.logger.warn(
      { address, retryAfterSeconds: count.retryAfterSeconds },
      `refusing ${address} for ${count.retryAfterSeconds} s: ${this.config.AUTH_FAILURE_LIMIT_PER_MIN} failed authentications in a minute`,
    );
    return count.retryAfterSeconds;
  }

  private async connectRedis(url: string): Promise<Redis> {
    const redis = new Redis(url, {
      lazyConnect: true,
      // Fail fast rather than queue: a request waits for no Redis that is down (see the class doc).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 500,
      connectTimeout: 1_000,
      // The key's and the tenant's counters of one request go in one round trip.
      enableAutoPipelining: true,
    });
    redis.on('error', (error: Error) => this.logger.warn(`Redis (rate limits): ${error.message}`));
    await redis.connect().catch((error: Error) => {
      this.logger.error(
        `Redis (rate limits) not reachable at start, limits not enforced until it is: ${error.message}`,
      );
    });
    return redis;
  }
}

/** Whether the request is for the tenant API (a malformed Host is left to the guard's 400). */
function isTenantHost(request: FastifyRequest, baseDomain: string): boolean {
  try {
    return parseHost(request.headers.host, baseDomain).kind === 'tenant';
  } catch {
    return false;
  }
}

/** The client's address (behind TRUST_PROXY, the forwarded one); an IPv6 client by its /64. */
function addressOf(request: FastifyRequest): string {
  return normalizeIP(request.ip);
}

function counterOf(fastify: FastifyInstance, scope: string, max: number, windowMs: number): Counter {
  // `createRateLimit` asks its key generator for the subject of a request: the subject is handed
  // over through this map for the duration of one call.
  const subjects = new WeakMap<FastifyRequest, string>();
  const options: RateLimitOptions = {
    max,
    timeWindow: windowMs,
    keyGenerator: (request) => `${scope}:${subjects.get(request)}`,
    // In memory: subjects tracked per process (least recently used dropped past it).
    cache: 100_000,
  };
  const limit = fastify.createRateLimit(options);
  return async (request, subject, increment = true) => {
    subjects.set(request, subject);
    const result = await limit(request, { increment });
    if (result.isAllowed) return { exceeded: false, remaining: max, ttlMs: 0, retryAfterSeconds: 1 };
    return {
      exceeded: result.isExceeded,
      remaining: result.remaining,
      ttlMs: result.ttl,
      retryAfterSeconds: Math.max(1, result.ttlInSeconds),
    };
  };
}
