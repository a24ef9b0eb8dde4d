import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type StepOutcome } from '#polystore/messaging';
import { CrashPoints } from '#polystore/platform';
import { handleSagaStep, ParticipantFence } from '#polystore/saga';
import { RequestContextStore } from '#polystore/tenancy';
import { DeviceEntity } from '../devices/device.entity.js';
import { OutboxRelay } from '../outbox/outbox-relay.service.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';

const S = Contracts.sagaSteps.reliable;

/** Crash point (tests): a compensation undid its step and committed; its reply is not yet sent. */
export const COMPENSATION_CRASH_POINT = 'reliable.saga.compensate.after-commit';

/** The reliable store's part in sagas: registry changes fenced in the transaction of their effect. */
@Controller()
export class SagaStepsHandler {
  constructor(
    private readonly fence: ParticipantFence,
    private readonly outbox: OutboxRepository,
    private readonly relay: OutboxRelay,
  ) {}

  @Handles(S.registerDevice)
  async registerDevice(@Payload() request: ParsedRequestOf<typeof S.registerDevice>): Promise<StepOutcome> {
    const { device } = request;
    const reply = await this.withRelay(
      handleSagaStep(this.fence, request, {
        action: async (m) => {
          const now = new Date();
          await m.insert(DeviceEntity, { ...device, status: 'pending', version: 1, createdAt: now, updatedAt: now });
          await this.outbox.append(m, { type: 'device.created', deviceId: device.id, status: 'pending', version: 1 });
          return { deviceId: device.id };
        },
        compensation: async (m) => {
          const removed = await m.delete(DeviceEntity, { id: device.id });
          if ((removed.affected ?? 0) > 0) {
            await this.outbox.append(m, { type: 'device.deleted', deviceId: device.id, status: null, version: null });
          }
        },
      }),
    );
    if (request.phase === 'compensation' && !reply.duplicate && !reply.empty) CrashPoints.hit(COMPENSATION_CRASH_POINT);
    return reply;
  }

  @Handles(S.activateDevice)
  activateDevice(@Payload() request: ParsedRequestOf<typeof S.activateDevice>): Promise<StepOutcome> {
    return this.withRelay(
      handleSagaStep(this.fence, request, {
        action: async (m) => {
          const device = await m
            .getRepository(DeviceEntity)
            .createQueryBuilder('d')
            .setLock('pessimistic_write')
            .where('d.id = :id', { id: request.deviceId })
            .getOne();
          if (!device) return { activated: false };
          if (device.status === 'pending') {
            await m.update(
              DeviceEntity,
              { id: device.id },
              { status: 'active', version: device.version + 1, updatedAt: new Date() },
            );
            await this.outbox.append(m, {
              type: 'device.status_changed',
              deviceId: device.id,
              status: 'active',
              version: device.version + 1,
            });
          }
          return { activated: true };
        },
      }),
    );
  }

  @Handles(S.removeDevice)
  removeDevice(@Payload() request: ParsedRequestOf<typeof S.removeDevice>): Promise<StepOutcome> {
    return this.withRelay(
      handleSagaStep(this.fence, request, {
        action: async (m) => {
          const removed = await m.delete(DeviceEntity, { id: request.deviceId });
          if ((removed.affected ?? 0) > 0) {
            await this.outbox.append(m, {
              type: 'device.deleted',
              deviceId: request.deviceId,
              status: null,
              version: null,
            });
          }
          return { removed: (removed.affected ?? 0) > 0 };
        },
      }),
    );
  }

  @Handles(S.anonymizeCustomer)
  anonymizeCustomer(@Payload() request: ParsedRequestOf<typeof S.anonymizeCustomer>): Promise<StepOutcome> {
    return handleSagaStep(this.fence, request, {
      action: async (m) => {
        const devices = await m
          .getRepository(DeviceEntity)
          .find({ select: { id: true }, where: { customerId: request.customerId } });
        if (devices.length > 0)
          await m.update(DeviceEntity, { customerId: request.customerId }, { customerId: null, updatedAt: new Date() });
        return { deviceIds: devices.map((d) => d.id) };
      },
    });
  }

  private async withRelay(outcome: Promise<StepOutcome>): Promise<StepOutcome> {
    const result = await outcome;
    this.relay.notify(RequestContextStore.requireTenant());
    return result;
  }
}
