import { Contracts, type MessageClient } from '#polystore/messaging';
import { defineSaga } from '#polystore/saga';
import { participantStep, type ParticipantStepSpec } from './participant-step.util.js';

/** What registering a device needs; the id is chosen by the gateway before the saga starts. */
export interface DeviceRegistrationInput {
  readonly deviceId: string;
  readonly name: string;
  readonly model: string;
  readonly customerId: string | null;
}

const S = Contracts.sagaSteps;

/**
 * Registry row in the reliable store (pending) -> credential in the secure store -> provisioning
 * in the edge store -> registry row active. Any failure compensates what ran, in reverse. The
 * secure store records the credential's first generation, which the edge store then issues (a
 * JWT it signs; never logged); the gateway shows it once. `deadlineMs` is the
 * gateway's SAGA_DEVICE_REGISTRATION_DEADLINE_MS (60 s by default).
 */
export function deviceRegistrationSaga(messages: MessageClient, deadlineMs = 60_000) {
  const step = (spec: ParticipantStepSpec<DeviceRegistrationInput>) => participantStep(messages, spec);
  return defineSaga<DeviceRegistrationInput>({
    name: 'device-registration',
    version: 1,
    deadlineMs,
    locks: (input) => [`device:${input.deviceId}`],
    steps: [
      step({
        name: 'registry',
        contract: S.reliable.registerDevice,
        compensable: true,
        fields: ({ input }) => ({
          device: { id: input.deviceId, name: input.name, model: input.model, customerId: input.customerId },
        }),
        retry: { maxAttempts: 6 },
      }),
      step({
        name: 'credential',
        contract: S.secure.issueCredential,
        compensable: true,
        fields: ({ input }) => ({ deviceId: input.deviceId }),
        retry: { maxAttempts: 6 },
      }),
      step({
        name: 'provision',
        contract: S.edge.provisionDevice,
        compensable: true,
        // The generation the secure store recorded: the edge store issues exactly that one.
        fields: ({ input, results }) => ({
          deviceId: input.deviceId,
          generation: (results.credential as { generation?: number } | null)?.generation,
        }),
        retry: { maxAttempts: 6 },
      }),
      step({
        name: 'activate',
        contract: S.reliable.activateDevice,
        compensable: false,
        fields: ({ input }) => ({ deviceId: input.deviceId }),
        retry: { maxAttempts: 8 },
      }),
    ],
    // The generation the edge store issued: the one whose token the gateway may show (a saga of
    // an earlier version has none, and its token is the device's current one).
    output: (results) => ({
      registered: true,
      generation: (results.provision as { generation?: number } | null)?.generation,
    }),
  });
}
