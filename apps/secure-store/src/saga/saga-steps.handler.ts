import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type StepOutcome } from '#polystore/messaging';
import { CrashPoints } from '#polystore/platform';
import { handleSagaStep, ParticipantFence } from '#polystore/saga';
import { AuditLog } from '../audit/audit-log.service.js';
import { TenantKeyring } from '../crypto/tenant-keyring.service.js';
import { CustomerRepository } from '../customers/customer.repository.js';
import { DeviceCredentialLedger } from '../devices/device-credential.ledger.js';

const S = Contracts.sagaSteps.secure;

/** A registered device's first credential (each rotation issues the next). */
const FIRST_GENERATION = 1;

/** Crash point (tests): a compensation undid its step and committed; its reply is not yet sent. */
export const COMPENSATION_CRASH_POINT = 'secure.saga.compensate.after-commit';

/** The secure store's part in sagas, each step fenced in the same transaction as its effect. */
@Controller()
export class SagaStepsHandler {
  constructor(
    private readonly fence: ParticipantFence,
    private readonly customers: CustomerRepository,
    private readonly keyring: TenantKeyring,
    private readonly audit: AuditLog,
    private readonly ledger: DeviceCredentialLedger,
  ) {}

  /** A registration: the device's first credential generation recorded; undone, forgotten. */
  @Handles(S.issueCredential)
  async issueCredential(@Payload() request: ParsedRequestOf<typeof S.issueCredential>): Promise<StepOutcome> {
    const reply = await handleSagaStep(this.fence, request, {
      action: async (m) => {
        await this.ledger.issue(m, request.deviceId, FIRST_GENERATION);
        return { deviceId: request.deviceId, generation: FIRST_GENERATION };
      },
      compensation: async (m) => {
        await this.ledger.remove(m, request.deviceId);
      },
    });
    if (request.phase === 'compensation' && !reply.duplicate && !reply.empty) CrashPoints.hit(COMPENSATION_CRASH_POINT);
    return reply;
  }

  /** A rotation: the edge store's new generation recorded, the earlier ones revoked. */
  @Handles(S.recordRotation)
  recordRotation(@Payload() request: ParsedRequestOf<typeof S.recordRotation>): Promise<StepOutcome> {
    return handleSagaStep(this.fence, request, {
      action: async (m) => {
        await this.ledger.rotate(m, request.deviceId, request.generation);
        return { deviceId: request.deviceId, generation: request.generation };
      },
    });
  }

  /** A deletion: every generation revoked; the history stays (until the tenant goes). */
  @Handles(S.revokeCredential)
  revokeCredential(@Payload() request: ParsedRequestOf<typeof S.revokeCredential>): Promise<StepOutcome> {
    return handleSagaStep(this.fence, request, {
      action: async (m) => ({ revoked: (await this.ledger.revoke(m, request.deviceId)) > 0 }),
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
