import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type StepOutcome } from '#polystore/messaging';
import { CrashPoints } from '#polystore/platform';
import { handleSagaStep, ParticipantFence } from '#polystore/saga';
import { In } from 'typeorm';
import { DeviceCredentialsService } from '../credentials/device-credentials.service.js';
import { ReadingEntity } from '../telemetry/reading.entity.js';

const S = Contracts.sagaSteps.edge;

/**
 * Crash point (tests): a compensation revoked the credential and committed; neither the broker
 * was told nor the reply sent (the orchestrator's retry, a duplicate here, does both).
 */
export const COMPENSATION_CRASH_POINT = 'edge.saga.compensate.after-commit';

/**
 * Crash point (tests): a rotation committed the next generation; the broker still accepts the
 * replaced one (the orchestrator's resend, a duplicate here, revokes it).
 */
export const ROTATION_CRASH_POINT = 'edge.saga.rotate.after-commit';

/**
 * The edge store's part in sagas. The credential change is fenced in the database transaction.
 * Granting needs no broker call (the credential is a JWT the broker verifies itself); a
 * revocation reaches the broker after the commit, idempotently: a duplicate step revokes again,
 * so a crash between the two is repaired by the orchestrator's retry.
 */
@Controller()
export class SagaStepsHandler {
  private readonly logger = new Logger(SagaStepsHandler.name);

  constructor(
    private readonly fence: ParticipantFence,
    private readonly credentials: DeviceCredentialsService,
  ) {}

  @Handles(S.provisionDevice)
  async provisionDevice(@Payload() request: ParsedRequestOf<typeof S.provisionDevice>): Promise<StepOutcome> {
    const outcome = await handleSagaStep(this.fence, request, {
      action: async (m) => {
        const issued = await this.credentials.issueInTransaction(m, request.deviceId, request.generation);
        return { deviceId: request.deviceId, generation: issued.generation };
      },
      compensation: async (m) => {
        await this.credentials.revokeInTransaction(m, request.deviceId);
      },
    });
    if (request.phase === 'compensation') {
      if (!outcome.duplicate && !outcome.empty) CrashPoints.hit(COMPENSATION_CRASH_POINT);
      await this.credentials.forgetEverywhere(request.deviceId);
    }
    return outcome;
  }

  /**
   * A rotation's edge half: the next generation in the step's transaction; after the commit (and
   * again on a duplicate, so a crash between the two is repaired by the orchestrator's retry) the
   * replaced generation is revoked at the broker and forgotten by every replica.
   */
  @Handles(S.rotateCredential)
  async rotateCredential(@Payload() request: ParsedRequestOf<typeof S.rotateCredential>): Promise<StepOutcome> {
    const outcome = await handleSagaStep(this.fence, request, {
      action: async (m) => {
        const rotated = await this.credentials.rotateInTransaction(m, request.deviceId);
        return { deviceId: request.deviceId, ...rotated };
      },
    });
    if (!outcome.duplicate) CrashPoints.hit(ROTATION_CRASH_POINT);
    const { generation, replaced } = outcome.result as { generation: number; replaced: number };
    await this.credentials.revokeGenerations(request.deviceId, [replaced]);
    if (!outcome.duplicate) this.logger.log({ deviceId: request.deviceId, generation }, 'device credential rotated');
    return outcome;
  }

  @Handles(S.deprovisionDevice)
  async deprovisionDevice(@Payload() request: ParsedRequestOf<typeof S.deprovisionDevice>): Promise<StepOutcome> {
    const outcome = await handleSagaStep(this.fence, request, {
      action: async (m) => {
        await this.credentials.revokeInTransaction(m, request.deviceId);
        return { deviceId: request.deviceId };
      },
    });
    await this.credentials.forgetEverywhere(request.deviceId);
    return outcome;
  }

  @Handles(S.eraseTelemetry)
  eraseTelemetry(@Payload() request: ParsedRequestOf<typeof S.eraseTelemetry>): Promise<StepOutcome> {
    return handleSagaStep(this.fence, request, {
      action: async (m) => {
        if (request.deviceIds.length === 0) return { deleted: 0 };
        const result = await m.delete(ReadingEntity, { deviceId: In(request.deviceIds) });
        return { deleted: result.affected ?? 0 };
      },
    });
  }
}
