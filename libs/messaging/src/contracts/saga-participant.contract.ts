import { z } from 'zod';
import { defineContract } from '../contract.js';

/** Identifies one saga step at a participant; the participant's fence keys on (sagaId, step). */
const sagaStep = {
  sagaId: z.uuid(),
  step: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  phase: z.enum(['action', 'compensation']),
};

/** What a participant answers: the action's result (also to duplicates), or how a compensation went. */
export const stepOutcomeSchema = z.object({
  result: z.unknown().nullable(),
  duplicate: z.boolean(),
  empty: z.boolean(),
});
export type StepOutcome = z.infer<typeof stepOutcomeSchema>;

const stepContract = <S extends z.ZodRawShape>(pattern: string, service: string, fields: S) =>
  defineContract({
    pattern,
    service,
    scope: 'tenant',
    request: z.object({ ...sagaStep, ...fields }).strict(),
    response: stepOutcomeSchema,
    timeoutMs: 5_000,
  });

/**
 * The saga steps each store takes part in. One contract per command; `phase` says whether it is
 * the action or its compensation (forward-only commands refuse a compensation).
 */
export const SagaStepContracts = {
  reliable: {
    /** Registry row in `pending`; compensation: remove it. */
    registerDevice: stepContract('reliable.saga.register-device', 'reliable-store', {
      device: z.object({
        id: z.uuid(),
        name: z.string().min(1).max(200),
        model: z.string().min(1).max(100),
        customerId: z.uuid().nullable(),
      }),
    }),
    /** `pending` -> `active` (forward-only). */
    activateDevice: stepContract('reliable.saga.activate-device', 'reliable-store', { deviceId: z.uuid() }),
    /** Deletes the registry row (forward-only). */
    removeDevice: stepContract('reliable.saga.remove-device', 'reliable-store', { deviceId: z.uuid() }),
    /** Removes the customer reference from its devices; result: their ids (forward-only). */
    anonymizeCustomer: stepContract('reliable.saga.anonymize-customer', 'reliable-store', { customerId: z.uuid() }),
  },
  secure: {
    /**
     * Records the device's first credential generation (result: `{ deviceId, generation }`, which
     * the saga hands to the edge store's provisioning); compensation: forgets it (the registration
     * is undone).
     */
    issueCredential: stepContract('secure.saga.issue-credential', 'secure-store', { deviceId: z.uuid() }),
    /** Records a rotation: `generation` issued, every earlier one revoked (forward-only). */
    recordRotation: stepContract('secure.saga.record-rotation', 'secure-store', {
      deviceId: z.uuid(),
      generation: z.number().int().min(1),
    }),
    /** Marks every generation of the device revoked; the history stays (forward-only). */
    revokeCredential: stepContract('secure.saga.revoke-credential', 'secure-store', { deviceId: z.uuid() }),
    /** Deletes the customer's PII (forward-only; already gone counts as done). */
    eraseCustomer: stepContract('secure.saga.erase-customer', 'secure-store', { customerId: z.uuid() }),
  },
  edge: {
    /**
     * Gives the device its MQTT/HTTP credentials of `generation` (the one the secure store
     * recorded; absent, from sagas started before it was sent: the edge store's own next one);
     * compensation: revokes them.
     */
    provisionDevice: stepContract('edge.saga.provision-device', 'edge-store', {
      deviceId: z.uuid(),
      generation: z.number().int().min(1).optional(),
    }),
    /**
     * Issues the device's next credential generation and revokes the one in use (its live
     * connections closed); result: `{ deviceId, generation }`. `DEVICE_NOT_FOUND` when the device
     * has no active credential (forward-only).
     */
    rotateCredential: stepContract('edge.saga.rotate-credential', 'edge-store', { deviceId: z.uuid() }),
    /** Revokes the device's credentials (forward-only). */
    deprovisionDevice: stepContract('edge.saga.deprovision-device', 'edge-store', { deviceId: z.uuid() }),
    /** Deletes the devices' telemetry (forward-only). */
    eraseTelemetry: stepContract('edge.saga.erase-telemetry', 'edge-store', {
      deviceIds: z.array(z.uuid()).max(10_000),
    }),
  },
} as const;
