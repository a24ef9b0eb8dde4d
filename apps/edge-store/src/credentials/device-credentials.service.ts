import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CatalogService } from '#polystore/catalog';
import { DeviceCredentialIssuer, telemetryTopic, type DeviceClaims } from '#polystore/device-broker';
import { sha256 } from '#polystore/platform';
import { Events, MessageClient, type DeviceCredentials } from '#polystore/messaging';
import { isTenantSlug, RequestContextStore, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { Subscription } from '@nats-io/transport-node';
import type { EntityManager } from 'typeorm';
import type { DeviceRevocations } from '../broker/device-revocations.js';
import { EdgeStoreException } from '../edge-store.exception.js';
import { DEVICE_REVOCATIONS } from '../edge.tokens.js';
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
 * The generation a device's credential is issued at, by registration (the saga step, or the
 * direct path of MongoDB placements): the active one as it is, else the next, at least `wanted`
 * (the generation the secure store recorded). `issue`: it must be written.
 */
function generationToIssue(
  existing: DeviceCredentialEntity | null,
  wanted = 1,
): { generation: number; issue: boolean } {
  if (existing?.status === 'active') return { generation: existing.generation, issue: false };
  return { generation: Math.max(existing ? existing.generation + 1 : 1, wanted), issue: true };
}

/**
 * Device credentials: NATS user JWTs signed here (no broker call), one user key per device and
 * generation. The database keeps each device's current generation and whether it is active;
 * revoking a generation records it at the broker ({@link DeviceRevocations}), which refuses it and
 * closes its connections, and tells every edge replica to forget its cached HTTP verification.
 */
@Injectable()
export class DeviceCredentialsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DeviceCredentialsService.name);
  private readonly verified = new Map<string, { principal: DevicePrincipal; expiresAt: number }>();
  private subscription?: Subscription;

  constructor(
    private readonly credentials: DeviceCredentialRepository,
    private readonly catalog: CatalogService,
    private readonly messages: MessageClient,
    private readonly issuer: DeviceCredentialIssuer,
    @Inject(DEVICE_REVOCATIONS) private readonly revocations: DeviceRevocations | null,
  ) {}

  onModuleInit(): void {
    this.subscription = this.messages.subscribe(Events.edge.deviceRevoked, ({ deviceId }) => this.forget(deviceId));
    this.catalog.onTenantChanged((tenant) => {
      for (const [key, entry] of this.verified) if (entry.principal.tenant === tenant) this.verified.delete(key);
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /** Gives the device of the current tenant a credential (same generation while it stays active). */
  async provision(deviceId: string): Promise<DeviceCredentials> {
    const { generation, issue } = generationToIssue(await this.credentials.find(deviceId));
    if (issue) await this.credentials.save(this.active(deviceId, generation));
    return this.credentialOf(deviceId, generation);
  }

  /**
   * A fresh credential of the device's active generation; with `generation`, only while that one
   * is the active one (`CREDENTIAL_SUPERSEDED` once a later rotation replaced it).
   */
  async current(deviceId: string, generation?: number): Promise<DeviceCredentials> {
    const existing = await this.credentials.find(deviceId);
    if (!existing || existing.status !== 'active') throw EdgeStoreException.deviceNotFound(deviceId);
    if (generation !== undefined && existing.generation !== generation)
      throw EdgeStoreException.credentialSuperseded(deviceId, generation);
    return this.credentialOf(deviceId, existing.generation);
  }

  /**
   * Inside a saga step's transaction: makes the device's credential active (same generation if
   * it already is) and returns that generation. `wanted` (the generation the secure store
   * recorded) is issued unless the device already had it or a later one.
   */
  async issueInTransaction(manager: EntityManager, deviceId: string, wanted?: number): Promise<{ generation: number }> {
    const { generation, issue } = generationToIssue(
      await manager.findOneBy(DeviceCredentialEntity, { deviceId }),
      wanted,
    );
    if (issue) await manager.save(this.active(deviceId, generation));
    return { generation };
  }

  /**
   * Inside a saga step's transaction: the device's next generation becomes the active one;
   * returns it and the generation it replaces (to be revoked at the broker after the commit:
   * {@link revokeGenerations}). `DEVICE_NOT_FOUND` without an active credential.
   */
  async rotateInTransaction(
    manager: EntityManager,
    deviceId: string,
  ): Promise<{ generation: number; replaced: number }> {
    const existing = await manager.findOneBy(DeviceCredentialEntity, { deviceId });
    if (!existing || existing.status !== 'active') throw EdgeStoreException.deviceNotFound(deviceId);
    const generation = existing.generation + 1;
    await manager.save(this.active(deviceId, generation));
    return { generation, replaced: existing.generation };
  }

  /** After a commit that replaced `generations`: the broker refuses them, every replica forgets them (idempotent). */
  async revokeGenerations(deviceId: string, generations: readonly number[]): Promise<void> {
    await this.revokeAtBroker(deviceId, generations);
  }

  /** Inside a saga step's transaction: marks the credential revoked (the broker follows: {@link forgetEverywhere}). */
  async revokeInTransaction(manager: EntityManager, deviceId: string): Promise<void> {
    await manager.update(
      DeviceCredentialEntity,
      { deviceId, status: 'active' },
      { status: 'revoked', updatedAt: new Date() },
    );
  }

  /** After a commit that revoked the device: the broker refuses its credential, every replica forgets it (idempotent). */
  async forgetEverywhere(deviceId: string): Promise<void> {
    const existing = await this.credentials.find(deviceId);
    if (existing && existing.status !== 'active') await this.revokeAtBroker(deviceId, [existing.generation]);
  }

  /** Revokes the device: refused at once by the broker and, after the broadcast, by every replica. */
  async revoke(deviceId: string): Promise<void> {
    const existing = await this.credentials.find(deviceId);
    if (existing && existing.status === 'active') {
      existing.status = 'revoked';
      existing.updatedAt = new Date();
      await this.credentials.save(existing);
    }
    if (existing) await this.revokeAtBroker(deviceId, [existing.generation]);
    this.logger.log({ deviceId }, 'device revoked');
  }

  /** Before the tenant's data is dropped: every credential of its devices is refused by the broker. */
  async revokeTenant(): Promise<number> {
    const tenant = RequestContextStore.requireTenant();
    const devices = await this.credentials.generations();
    if (this.revocations) {
      await this.revocations.revoke(devices.map((d) => this.issuer.userKey(tenant, d.deviceId, d.generation)));
    }
    for (const device of devices) this.forget(device.deviceId);
    return devices.length;
  }

  /**
   * The device a credential belongs to; `DEVICE_UNAUTHENTICATED` for anything else. A verified
   * credential is remembered (by its SHA-256) for 30 s, never past its own expiry, and forgotten at
   * once when its device is revoked, so the signature and the database are not consulted per request.
   */
  async verify(presented: string): Promise<DevicePrincipal> {
    const cacheKey = sha256(presented).toString('base64');
    const hit = this.verified.get(cacheKey);
    if (hit && hit.expiresAt > Date.now()) return hit.principal;
    const claims = this.issuer.verify(presented);
    if (!claims || !isTenantSlug(claims.tenant)) throw EdgeStoreException.unauthenticated();
    const principal = await this.checkActive(claims, claims.tenant);
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value as string);
    const until = Math.min(Date.now() + VERIFIED_TTL_MS, (claims.expiresAt ?? Infinity) * 1000);
    this.verified.set(cacheKey, { principal, expiresAt: until });
    return principal;
  }

  /** A fresh credential for the device presenting a valid one (same generation, new expiry). */
  async renew(presented: string): Promise<DeviceCredentials> {
    const principal = await this.verify(presented);
    const claims = this.issuer.verify(presented)!;
    return runAsTenant(principal.tenant, () =>
      Promise.resolve(this.credentialOf(principal.deviceId, claims.generation)),
    );
  }

  private async checkActive(claims: DeviceClaims, tenant: TenantSlug): Promise<DevicePrincipal> {
    const known = await this.catalog.findTenant(tenant);
    if (!known || known.status !== 'active') throw EdgeStoreException.unauthenticated();
    const stored = await runAsTenant(tenant, () => this.credentials.find(claims.deviceId));
    if (!stored || stored.status !== 'active' || stored.generation !== claims.generation)
      throw EdgeStoreException.unauthenticated();
    return { tenant, deviceId: claims.deviceId };
  }

  private credentialOf(deviceId: string, generation: number): DeviceCredentials {
    const tenant = RequestContextStore.requireTenant();
    const token = this.issuer.issue(tenant, deviceId, generation);
    const expiresAt = this.issuer.verify(token)?.expiresAt;
    return {
      deviceId,
      token,
      ...(expiresAt ? { expiresAt: new Date(expiresAt * 1000).toISOString() } : {}),
      mqtt: { username: deviceId, topic: telemetryTopic(tenant, deviceId) },
    };
  }

  /** The stored row of an active generation; the hash is of its user key (the credential itself is never stored). */
  private active(deviceId: string, generation: number): DeviceCredentialEntity {
    const tenant = RequestContextStore.requireTenant();
    return Object.assign(new DeviceCredentialEntity(), {
      deviceId,
      tokenHash: sha256(this.issuer.userKey(tenant, deviceId, generation)),
      generation,
      status: 'active' as const,
      updatedAt: new Date(),
    });
  }

  private async revokeAtBroker(deviceId: string, generations: readonly number[]): Promise<void> {
    const tenant = RequestContextStore.requireTenant();
    await this.revocations?.revoke(generations.map((g) => this.issuer.userKey(tenant, deviceId, g)));
    this.forget(deviceId);
    this.messages.publish(Events.edge.deviceRevoked, { tenant, deviceId });
  }

  private forget(deviceId: string): void {
    for (const [key, entry] of this.verified) if (entry.principal.deviceId === deviceId) this.verified.delete(key);
  }
}
