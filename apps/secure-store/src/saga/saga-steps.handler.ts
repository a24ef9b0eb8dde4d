import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type StepOutcome } from '#polystore/messaging';
import { CrashPoints, DeviceTokens, type MasterKeyring } from '#polystore/platform';
import { handleSagaStep, ParticipantFence } from '#polystore/saga';
import { RequestContextStore } from '#polystore/tenancy';
import { AuditLog } from '../audit/audit-log.service.js';
import { SecureDeviceCredentialEntity } from '../crypto/device-credential.entity.js';
import { TenantKeyring } from '../crypto/tenant-keyring.service.js';
import { CustomerRepository } from '../customers/customer.repository.js';
import { MASTER_KEYRING } from '../secure.tokens.js';

const S = Contracts.sagaSteps.secure;

/** Crash point (tests): a compensation undid its step and committed; its reply is not yet sent. */
export const COMPENSATION_CRASH_POINT = 'secure.saga.compensate.after-commit';

/** The secure store's part in sagas, each step fenced in the same transaction as its effect. */
@Controller()
export class SagaStepsHandler {
  private readonly tokens: DeviceTokens;

  constructor(
    private readonly fence: ParticipantFence,
    private readonly customers: CustomerRepository,
    private readonly keyring: TenantKeyring,
    private readonly audit: AuditLog,
    @Inject(MASTER_KEYRING) masterKeyring: MasterKeyring,
  ) {
    this.tokens = new DeviceTokens(masterKeyring.derivationRoot);
  }

  @Handles(S.issueCredential)
  async issueCredential(@Payload() request: ParsedRequestOf<typeof S.issueCredential>): Promise<StepOutcome> {
    const tenant = RequestContextStore.requireTenant();
    const reply = await handleSagaStep(this.fence, request, {
      action: async (m) => {
        const generation = 1;
        await m.insert(SecureDeviceCredentialEntity, {
          deviceId: request.deviceId,
          tokenHash: DeviceTokens.hash(this.tokens.token(tenant, request.deviceId, generation)),
          generation,
        });
        return { deviceId: request.deviceId, generation };
      },
      compensation: async (m) => {
        await m.delete(SecureDeviceCredentialEntity, { deviceId: request.deviceId });
      },
    });
    if (request.phase === 'compensation' && !reply.duplicate && !reply.empty) CrashPoints.hit(COMPENSATION_CRASH_POINT);
    return reply;
  }

  @Handles(S.revokeCredential)
  revokeCredential(@Payload() request: ParsedRequestOf<typeof S.revokeCredential>): Promise<StepOutcome> {
    return handleSagaStep(this.fence, request, {
      action: async (m) => {
        const result = await m.delete(SecureDeviceCredentialEntity, { deviceId: request.deviceId });
        return { revoked: (result.affected ?? 0) > 0 };
      },
    });
  }

  /**
   * The erasure saga's PII step: the customer's row and its own key are deleted by one statement
   * (see `CustomerRepository.delete`), fenced and audited in the same transaction. Once it
   * commits, no key the store holds opens the customer's fields, wherever a copy of them is.
   */
  @Handles(S.eraseCustomer)
  async eraseCustomer(@Payload() request: ParsedRequestOf<typeof S.eraseCustomer>): Promise<StepOutcome> {
    const keys = await this.keyring.current();
    return handleSagaStep(this.fence, request, {
      action: async (m) => {
        const existed = await this.customers.delete(m, request.customerId);
        await this.audit.appendInTransaction(m, keys, [
          { action: 'customer.delete', subjectId: request.customerId, outcome: existed ? 'ok' : 'not_found' },
        ]);
        return { erased: existed };
      },
    });
  }
}
