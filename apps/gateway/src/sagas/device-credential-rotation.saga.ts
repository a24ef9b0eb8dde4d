import { Contracts, type MessageClient } from '#polystore/messaging';
import { defineSaga } from '#polystore/saga';
import { participantStep, UNTIL_DONE, type ParticipantStepSpec } from './participant-step.util.js';

export interface DeviceCredentialRotationInput {
  readonly deviceId: string;
}

const S = Contracts.sagaSteps;

/**
 * A device's next credential: the edge store issues the next generation and revokes the one in
 * use (the device is refused with it at once), then the secure store records the new generation
 * in the device's credential history. Forward-only: each step retried until done, so an edge
 * rotation is always recorded; a device without an active credential fails the first step
 * (`DEVICE_NOT_FOUND`) and nothing changes.
 */
export function deviceCredentialRotationSaga(messages: MessageClient, deadlineMs = 60_000) {
  const step = (spec: ParticipantStepSpec<DeviceCredentialRotationInput>) => participantStep(messages, spec);
  return defineSaga<DeviceCredentialRotationInput>({
    name: 'device-credential-rotation',
    version: 1,
    deadlineMs,
    locks: (input) => [`device:${input.deviceId}`],
    steps: [
      step({
        name: 'rotate',
        contract: S.edge.rotateCredential,
        compensable: false,
        fields: ({ input }) => ({ deviceId: input.deviceId }),
        retry: UNTIL_DONE,
      }),
      step({
        name: 'record',
        contract: S.secure.recordRotation,
        compensable: false,
        fields: ({ input, results }) => ({
          deviceId: input.deviceId,
          generation: (results.rotate as { generation: number }).generation,
        }),
        retry: UNTIL_DONE,
      }),
    ],
    output: (results) => ({ generation: (results.record as { generation: number }).generation }),
  });
}
