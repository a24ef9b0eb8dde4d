import { Inject, Injectable } from '@nestjs/common';
import { DeviceTokens } from '#polystore/platform';
import { SagaException, SagaOrchestrator, SagaState } from '#polystore/saga';
import { RequestContextStore } from '#polystore/tenancy';
import { MASTER_KEY } from '../config.js';
import { toSagaDto, type SagaDto } from './saga.dto.js';

/** Reading sagas (tenants see their own) and the operator's retry and skip. */
@Injectable()
export class SagasService {
  private readonly tokens: DeviceTokens;

  constructor(
    private readonly orchestrator: SagaOrchestrator,
    @Inject(MASTER_KEY) masterKey: Buffer,
  ) {
    this.tokens = new DeviceTokens(masterKey);
  }

  /**
   * One of the current tenant's sagas. A device registration that finished in the background
   * shows the device's token here, on the first read after its success, and never again.
   */
  async getForTenant(id: string): Promise<SagaDto> {
    const tenant = RequestContextStore.requireTenant();
    const saga = await this.orchestrator.get(id).catch(() => null);
    if (!saga || saga.tenant !== tenant) throw SagaException.notFound(id);
    const dto = toSagaDto(saga);
    if (
      saga.name === 'device-registration' &&
      saga.state === SagaState.SUCCEEDED &&
      (await this.orchestrator.claimOutputFlag(id, 'tokenShown'))
    ) {
      dto.token = this.tokens.token(tenant, (saga.input as { deviceId: string }).deviceId, 1);
    }
    return dto;
  }

  async list(state?: SagaState): Promise<SagaDto[]> {
    return (await this.orchestrator.list({ state, limit: 200 })).map(toSagaDto);
  }

  async retry(id: string): Promise<SagaDto> {
    return toSagaDto(await this.orchestrator.retry(id));
  }

  async skip(id: string): Promise<SagaDto> {
    return toSagaDto(await this.orchestrator.skip(id));
  }
}
