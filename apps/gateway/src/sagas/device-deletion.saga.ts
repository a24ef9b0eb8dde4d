import { Contracts, type MessageClient } from '#polystore/messaging';
import { defineSaga } from '#polystore/saga';
import { participantStep, UNTIL_DONE, type ParticipantStepSpec } from './participant-step.util.js';

export interface DeviceDeletionInput {
  readonly deviceId: string;
}

const S = Contracts.sagaSteps;

/**
 * The reverse of registration, forward-only once started: credentials revoked in the edge store
 * (the device is refused at once), then in the secure store, then the registry row removed.
 * Each step is retried until done.
 */
export function deviceDeletionSaga(messages: MessageClient) {
  const step = (spec: ParticipantStepSpec<DeviceDeletionInput>) => participantStep(messages, spec);
  const deviceId = ({ input }: { input: DeviceDeletionInput }) => ({ deviceId: input.deviceId });
  return defineSaga<DeviceDeletionInput>({
    name: 'device-deletion',
    version: 1,
    deadlineMs: 60_000,
    locks: (input) => [`device:${input.deviceId}`],
    steps: [
      step({
        name: 'deprovision',
        contract: S.edge.deprovisionDevice,
        compensable: false,
        fields: deviceId,
        retry: UNTIL_DONE,
      }),
      step({
        name: 'credential',
        contract: S.secure.revokeCredential,
        compensable: false,
        fields: deviceId,
        retry: UNTIL_DONE,
      }),
      step({
        name: 'registry',
        contract: S.reliable.removeDevice,
        compensable: false,
        fields: deviceId,
        retry: UNTIL_DONE,
      }),
    ],
  });
}
