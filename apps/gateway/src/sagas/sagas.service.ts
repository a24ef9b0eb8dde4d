import { Injectable } from '@nestjs/common';
import { MessageClient } from '#polystore/messaging';
import { sha256 } from '#polystore/platform';
import { SagaException, SagaOrchestrator, SagaState, type OperatorActionOptions } from '#polystore/saga';
import { CurrentTenant } from '../context/current-tenant.service.js';
import { issuedCredential } from '../devices/issued-credential.js';
import { toSagaDto, type SagaDto } from './saga.dto.js';

/** Reading sagas (tenants see their own) and the operator's retry and skip. */
@Injectable()
export class SagasService {
  constructor(
    private readonly orchestrator: SagaOrchestrator,
    private readonly messages: MessageClient,
    private readonly tenants: CurrentTenant,
  ) {}

  /**
   * One of the current tenant's sagas. A device registration that finished in the background
   * shows the device's token here, on the first read after its success, and never again.
   */
  async getForTenant(id: string): Promise<SagaDto> {
    const tenant = await this.tenants.get();
    const saga = await this.orchestrator.get(id).catch(() => null);
    // By id where the log has it: a slug reused after a deletion is another tenant.
    if (!saga || saga.tenant !== tenant.slug || (saga.tenantId !== null && saga.tenantId !== tenant.id))
      throw SagaException.notFound(id);
    const dto = toSagaDto(saga);
    const shown = (saga.output as { tokenShown?: boolean } | null)?.tokenShown === true;
    if (saga.name === 'device-registration' && saga.state === SagaState.SUCCEEDED && !shown) {
      const deviceId = (saga.input as { deviceId: string }).deviceId;
      // Fetched before the flag is claimed (a failed fetch leaves it to a later read); a
      // device deleted since, or whose registration's generation a rotation replaced, has no
      // credential to show.
      const credential = await issuedCredential(this.messages, deviceId, saga.output);
      if (credential && (await this.orchestrator.claimOutputFlag(id, 'tokenShown'))) dto.token = credential.token;
    }
    return dto;
  }

  /** Any saga (operators). */
  async get(id: string): Promise<SagaDto> {
    return toSagaDto(await this.orchestrator.get(id));
  }

  /** The newest sagas (200 unless `limit`), of one state and one tenant when given. */
  async list(state?: SagaState, filter: { tenant?: string; limit?: number } = {}): Promise<SagaDto[]> {
    return (await this.orchestrator.list({ state, tenant: filter.tenant, limit: filter.limit ?? 200 })).map(toSagaDto);
  }

  /**
   * Any saga (operators) and the SHA-256 (hex) of its input, which is never shown: it may hold
   * personal data (a device's or customer's name).
   */
  async getWithDigest(id: string): Promise<{ saga: SagaDto; inputDigest: string }> {
    const saga = await this.orchestrator.get(id);
    return { saga: toSagaDto(saga), inputDigest: sha256(JSON.stringify(saga.input ?? null)).toString('hex') };
  }

  /**
   * Operator: runs a parked saga's failed work again. With an `Idempotency-Key`, a repeat gets
   * the saga as the first call left it, without acting again; the key used for another saga or
   * action is `IDEMPOTENCY_MISMATCH`.
   */
  async retry(id: string, idempotencyKey?: string): Promise<SagaDto> {
    return toSagaDto(await this.orchestrator.retry(id, keyOption(idempotencyKey)));
  }

  /** Operator: closes a parked saga, giving up on what failed; the key as for {@link retry}. */
  async skip(id: string, idempotencyKey?: string): Promise<SagaDto> {
    return toSagaDto(await this.orchestrator.skip(id, keyOption(idempotencyKey)));
  }
}

function keyOption(idempotencyKey: string | undefined): OperatorActionOptions {
  return idempotencyKey === undefined ? {} : { idempotencyKey };
}
