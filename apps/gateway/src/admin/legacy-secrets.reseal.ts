import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CatalogAdminService } from '#polystore/catalog';

/**
 * At start, seals again with their store's key the placements' server passwords sealed before
 * store keys existed, so the stores that hold only their own key can open them. The gateway
 * holds the master key; a failure is logged and tried again at the next start.
 */
@Injectable()
export class LegacySecretsReseal implements OnApplicationBootstrap {
  private readonly logger = new Logger(LegacySecretsReseal.name);

  constructor(private readonly admin: CatalogAdminService) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const resealed = await this.admin.resealLegacyServerSecrets();
      if (resealed > 0) this.logger.log({ resealed }, 'server passwords sealed again with their store keys');
    } catch (error) {
      this.logger.warn({ code: (error as { code?: string }).code }, 'could not seal server passwords again');
    }
  }
}
