export { SagaErrorCode, SagaException } from './saga.exception.js';
export { describeError, isBusinessKind } from './internal/outcome.js';
export {
  DEFAULT_COMPENSATION_RETRY,
  DEFAULT_RETRY,
  defineSaga,
  isForwardOnly,
  step,
  type RetryPolicy,
  type SagaDefinition,
  type StepContext,
  type StepDefinition,
} from './definition.js';
export { systemClock, type Clock } from './clock.js';
export { SagaState, StepState, type SagaRecord, type StepRecord } from './saga-state.js';
export {
  DEFAULT_OPERATOR_KEY_RETENTION_MS,
  DEFAULT_UNKNOWN_OUTCOME_WINDOW_MS,
  SagaCrashPoint,
  SagaOrchestrator,
  type OperatorActionOptions,
  type SagaOrchestratorOptions,
} from './saga-orchestrator.js';
export { SagaModule } from './saga.module.js';
export { SAGA_MIGRATIONS } from './migrations/index.js';
export {
  createSagaInboxTable,
  dropSagaInboxTable,
  moveIdempotencyKeysToInbox,
  moveInboxToIdempotencyKeys,
} from './participant/saga-inbox.schema.js';
export {
  PARTICIPANT_CRASH_POINT,
  ParticipantFence,
  sagaStepKey,
  type FenceOutcome,
} from './participant/participant-fence.js';
export { handleSagaStep, type StepCommand, type StepReply } from './participant/step-handler.js';
