import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CatalogAdminService, SYSTEM_DATA_SOURCE, type PlacementSpec } from '#polystore/catalog';
import type { DataSource } from 'typeorm';
import type { TenantProvisioningInput } from '../sagas/tenant-provisioning.saga.js';

/** A server URL with a password in it (`://user:password@`), as JSON text. */
const PASSWORD_IN_URL = '://[^/@":]+:[^/@"]*@';

/**
 * At start, seals what earlier versions left in clear or sealed with the wrong key; the gateway
 * holds the master key. A failure is logged and tried again at the next start.
 * - The placements' server passwords sealed before store keys existed are sealed again with
 *   their store's key, so the stores that hold only their own key can open them.
 * - Tenant-provisioning sagas written before their input sealed server passwords (the saga log
 *   kept the URLs' passwords in clear): each placement's password is sealed, as new sagas' are.
 * It also warns of the placements still reached with the provisioning login (made before
 * placements had logins of their own): `polystore tenants adopt-logins` gives them theirs.
 */
@Injectable()
export class LegacySecretsReseal implements OnApplicationBootstrap {
  private readonly logger = new Logger(LegacySecretsReseal.name);

  constructor(
    private readonly admin: CatalogAdminService,
    @Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const resealed = await this.admin.resealLegacyServerSecrets();
      if (resealed > 0) this.logger.log({ resealed }, 'server passwords sealed again with their store keys');
    } catch (error) {
      this.logger.warn({ code: (error as { code?: string }).code }, 'could not seal server passwords again');
    }
    try {
      const legacy = await this.admin.legacyPlacementLogins();
      if (legacy.length > 0)
        this.logger.warn(
          { placements: legacy.length },
          'placements still reached with the provisioning login: run `polystore tenants adopt-logins`',
        );
    } catch (error) {
      this.logger.warn({ code: (error as { code?: string }).code }, 'could not count the placements without a login');
    }
    try {
      const sealed = await this.sealProvisioningInputs();
      if (sealed > 0) this.logger.log({ sagas: sealed }, 'server passwords in the saga log sealed');
    } catch (error) {
      this.logger.warn({ code: (error as { code?: string }).code }, 'could not seal server passwords in the saga log');
    }
  }

  /** Seals the server passwords left in clear in tenant-provisioning sagas' input; returns how many sagas changed. */
  async sealProvisioningInputs(): Promise<number> {
    const rows = await this.db.query<Array<{ id: string; input: TenantProvisioningInput }>>(
      `SELECT id, input FROM sagas WHERE name = 'tenant-provisioning' AND input::text ~ $1`,
      [PASSWORD_IN_URL],
    );
    let sealed = 0;
    for (const { id, input } of rows) {
      const placements: PlacementSpec[] = input.placements.map((spec) => this.admin.sealedSpec(input.tenantId, spec));
      // Only if unchanged since read: a saga that moved on meanwhile is sealed at the next start.
      const [, affected] = await this.db.query<[unknown, number]>(
        'UPDATE sagas SET input = $2::jsonb WHERE id = $1 AND input = $3::jsonb',
        [id, JSON.stringify({ ...input, placements }), JSON.stringify(input)],
      );
      sealed += affected;
    }
    return sealed;
  }
}
