import { Injectable } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import { IsNull, LessThan, type EntityManager } from 'typeorm';
import { SecureDeviceCredentialEntity } from './device-credential.entity.js';

/** One generation of a device's credential, as read back. */
export interface CredentialGeneration {
  readonly generation: number;
  readonly issuedAt: Date;
  readonly revokedAt: Date | null;
}

/**
 * The history of the current tenant's device credentials (`device_credentials`): which
 * generation each device was given, when, and when it stopped being accepted. The writes run in
 * the transaction of a saga step (registration, rotation, deletion); one row per generation.
 */
@Injectable()
export class DeviceCredentialLedger {
  constructor(private readonly router: DataSourceRouter) {}

  /** Records `generation` as issued (once: a repeat changes nothing). */
  async issue(manager: EntityManager, deviceId: string, generation: number): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(SecureDeviceCredentialEntity)
      .values({ deviceId, generation, issuedAt: new Date(), revokedAt: null })
      .orIgnore()
      .execute();
  }

  /** A rotation: `generation` issued, every earlier one still accepted revoked now. */
  async rotate(manager: EntityManager, deviceId: string, generation: number): Promise<void> {
    await this.revoke(manager, deviceId, generation);
    await this.issue(manager, deviceId, generation);
  }

  /**
   * Revokes now every generation of the device still accepted (below `before`, when given: a
   * rotation; all of them: a deletion); how many were.
   */
  async revoke(manager: EntityManager, deviceId: string, before?: number): Promise<number> {
    const result = await manager.update(
      SecureDeviceCredentialEntity,
      { deviceId, revokedAt: IsNull(), ...(before === undefined ? {} : { generation: LessThan(before) }) },
      { revokedAt: new Date() },
    );
    return result.affected ?? 0;
  }

  /** Forgets the device's generations (a registration undone: none was ever handed out). */
  async remove(manager: EntityManager, deviceId: string): Promise<void> {
    await manager.delete(SecureDeviceCredentialEntity, { deviceId });
  }

  /** The device's generations, newest first (empty: no credential was ever recorded). */
  history(deviceId: string): Promise<CredentialGeneration[]> {
    return this.router.run((ds) =>
      ds.getRepository(SecureDeviceCredentialEntity).find({
        where: { deviceId },
        order: { generation: 'DESC' },
        take: 1_000,
      }),
    );
  }
}
