import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CatalogService } from '#polystore/catalog';
import { DeviceTokens } from '#polystore/platform';
import { Events, MessageClient, type DeviceCredentials } from '#polystore/messaging';
import { isTenantSlug, RequestContextStore, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { Subscription } from '@nats-io/transport-node';
import type { EntityManager } from 'typeorm';
import { telemetryTopic, type BrokerAccess } from '../broker/broker-access.js';
import { EdgeStoreException } from '../edge-store.exception.js';
import { BROKER_ACCESS, MASTER_KEY } from '../edge.tokens.js';
import { DeviceCredentialEntity } from './device-credential.entity.js';
import { DeviceCredentialRepository } from './device-credential.repository.js';

/** An authenticated device: where its readings go. */
export interface DevicePrincipal {
  readonly tenant: TenantSlug;
  readonly deviceId: string;
}

const VERIFIED_TTL_MS = 30_000;
const MAX_VERIFIED = 50_000;

/**
 * Device credentials: provisioning (idempotent, same token while active), revocation (the
 * broker drops the client at once; every edge replica forgets it via a NATS broadcast) and
 * verification of HTTP bearer tokens (SHA-256 compared in constant time, cached 30 s).
 */
@Injectable()
export class DeviceCredentialsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DeviceCredentialsService.name);
  private readonly tokens: DeviceTokens;
  private readonly verified = new Map<string, { principal: DevicePrincipal; expiresAt: number }>();
  private subscription?: Subscription;

  constructor(
    private readonly credentials: DeviceCredentialRepository,
    private readonly catalog: CatalogService,
    private readonly messages: MessageClient,
    @Inject(BROKER_ACCESS) private readonly broker: BrokerAccess,
    @Inject(MASTER_KEY) masterKey: Buffer,
  ) {
    this.tokens = new DeviceTokens(masterKey);
  }

  onModuleInit(): void {
    this.subscription = this.messages.subscribe(Events.edge.deviceRevoked, ({ deviceId }) => this.forget(deviceId));
    this.catalog.onTenantChanged((tenant) => {
      for (const [key, entry] of this.verified) if (entry.principal.tenant === tenant) this.verified.delete(key);
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /** Gives the device of the current tenant its credentials (same token while it stays active). */
  async provision(deviceId: string): Promise<DeviceCredentials> {
    const tenant = RequestContextStore.requireTenant();
    const existing = await this.credentials.find(deviceId);
    const generation = existing ? (existing.status === 'active' ? existing.generation : existing.generation + 1) : 1;
    const token = this.tokens.token(tenant, deviceId, generation);
    if (!existing || existing.status !== 'active') {
      await this.credentials.save(
        Object.assign(new DeviceCredentialEntity(), {
          deviceId,
          tokenHash: DeviceTokens.hash(token),
          generation,
          status: 'active' as const,
          updatedAt: new Date(),
        }),
      );
    }
    // Always (re)grant: a crash between the save and the grant is repaired by the retry.
    await this.broker.grantDevice(tenant, deviceId, token);
    return { deviceId, token, mqtt: { username: deviceId, topic: telemetryTopic(tenant, deviceId) } };
  }

  /**
   * Inside a saga step's transaction: makes the device's credential active (same generation if
   * it already is) and returns its token; the broker grant follows the commit ({@link grant}).
   */
  async issueInTransaction(manager: EntityManager, deviceId: string): Promise<{ generation: number; token: string }> {
    const tenant = RequestContextStore.requireTenant();
    const existing = await manager.findOneBy(DeviceCredentialEntity, { deviceId });
    const generation = existing ? (existing.status === 'active' ? existing.generation : existing.generation + 1) : 1;
    const token = this.tokens.token(tenant, deviceId, generation);
    if (!existing || existing.status !== 'active') {
      await manager.save(
        Object.assign(new DeviceCredentialEntity(), {
          deviceId,
          tokenHash: DeviceTokens.hash(token),
          generation,
          status: 'active' as const,
          updatedAt: new Date(),
        }),
      );
    }
    return { generation, token };
  }

  /** Inside a saga step's transaction: marks the credential revoked (the broker follows: {@link forgetEverywhere}). */
  async revokeInTransaction(manager: EntityManager, deviceId: string): Promise<void> {
    await manager.update(
      DeviceCredentialEntity,
      { deviceId, status: 'active' },
      { status: 'revoked', updatedAt: new Date() },
    );
  }

  /** The token of the current tenant's device at `generation` (recomputed, never stored). */
  tokenFor(deviceId: string, generation: number): string {
    return this.tokens.token(RequestContextStore.requireTenant(), deviceId, generation);
  }

  /** After a commit: lets the device in at the broker (idempotent). */
  async grant(deviceId: string, token: string): Promise<void> {
    await this.broker.grantDevice(RequestContextStore.requireTenant(), deviceId, token);
  }

  /** After a commit: removes the device at the broker and in every replica's cache (idempotent). */
  async forgetEverywhere(deviceId: string): Promise<void> {
    const tenant = RequestContextStore.requireTenant();
    await this.broker.revokeDevice(deviceId);
    this.forget(deviceId);
    this.messages.publish(Events.edge.deviceRevoked, { tenant, deviceId });
  }

  /** Revokes the device: refused at once by the broker and, after the broadcast, by every replica. */
  async revoke(deviceId: string): Promise<void> {
    const tenant = RequestContextStore.requireTenant();
    const existing = await this.credentials.find(deviceId);
    if (existing && existing.status === 'active') {
      existing.status = 'revoked';
      existing.updatedAt = new Date();
      await this.credentials.save(existing);
    }
    await this.broker.revokeDevice(deviceId);
    this.forget(deviceId);
    this.messages.publish(Events.edge.deviceRevoked, { tenant, deviceId });
    this.logger.log({ deviceId }, 'device revoked');
  }

  /** The device a bearer token belongs to; `DEVICE_UNAUTHENTICATED` for anything else. */
  async verify(presented: string): Promise<DevicePrincipal> {
    const cacheKey = DeviceTokens.hash(presented).toString('base64');
    const hit = this.verified.get(cacheKey);
    if (hit && hit.expiresAt > Date.now()) return hit.principal;
    const parsed = DeviceTokens.parse(presented);
    if (!parsed || !isTenantSlug(parsed.tenant)) throw EdgeStoreException.unauthenticated();
    const claim = { tenant: parsed.tenant, deviceId: parsed.deviceId };
    const tenant = await this.catalog.findTenant(claim.tenant);
    if (!tenant || tenant.status !== 'active') throw EdgeStoreException.unauthenticated();
    const stored = await runAsTenant(claim.tenant, () => this.credentials.find(claim.deviceId));
    const presentedHash = DeviceTokens.hash(presented);
    if (!stored || stored.status !== 'active' || !timingSafeEqual(stored.tokenHash, presentedHash)) {
      throw EdgeStoreException.unauthenticated();
    }
    const principal = { tenant: claim.tenant, deviceId: claim.deviceId };
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(cacheKey, { principal, expiresAt: Date.now() + VERIFIED_TTL_MS });
    return principal;
  }

  private forget(deviceId: string): void {
    for (const [key, entry] of this.verified) if (entry.principal.deviceId === deviceId) this.verified.delete(key);
  }
}
