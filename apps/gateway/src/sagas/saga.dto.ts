import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SagaRecord } from '#polystore/saga';
import { SagaState } from '#polystore/saga';

export class SagaStepDto {
  @ApiProperty() step!: string;
  @ApiProperty({
    enum: [
      'PENDING',
      'RUNNING',
      'SUCCEEDED',
      'FAILED',
      'COMPENSATING',
      'COMPENSATED',
      'COMPENSATION_FAILED',
      'SKIPPED',
    ],
  })
  state!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty() compensationAttempts!: number;
  @ApiPropertyOptional({ nullable: true, type: Object, description: "The last attempt's error (code, kind, message)" })
  error!: unknown;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'Since when its store has not answered (outcome unknown, retried); null once it answers',
  })
  unknownSince!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'Until when an unanswered step is retried before the saga gives up on it and compensates',
  })
  retryUntil!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the next attempt is due' })
  nextAttemptAt!: string | null;
}

export class SagaDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ enum: Object.values(SagaState) }) state!: string;
  @ApiProperty({ nullable: true, type: String }) tenant!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: "The tenant's immutable id" })
  tenantId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Object }) error!: unknown;
  @ApiProperty({
    format: 'date-time',
    description: 'After it the saga compensates; time spent waiting for a store that does not answer moves it',
  })
  deadlineAt!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: [SagaStepDto] }) steps!: SagaStepDto[];
  @ApiPropertyOptional({
    description: 'Device token, on the first read after a device registration that finished in the background',
  })
  token?: string;
}

export class SagaListDto {
  @ApiProperty({ type: [SagaDto] }) items!: SagaDto[];
}

/** A saga as the API shows it: states, steps and errors; never its input (it may hold names). */
export function toSagaDto(saga: SagaRecord): SagaDto {
  return {
    id: saga.id,
    name: saga.name,
    version: saga.version,
    state: saga.state,
    tenant: saga.tenant,
    tenantId: saga.tenantId,
    error: saga.error ?? null,
    deadlineAt: saga.deadlineAt.toISOString(),
    createdAt: saga.createdAt.toISOString(),
    updatedAt: saga.updatedAt.toISOString(),
    steps: saga.steps.map((s) => ({
      step: s.step,
      state: s.state,
      attempts: s.attempts,
      compensationAttempts: s.compensationAttempts,
      error: s.error ?? null,
      unknownSince: s.unknownSince?.toISOString() ?? null,
      retryUntil: s.retryUntil?.toISOString() ?? null,
      nextAttemptAt: s.nextAttemptAt?.toISOString() ?? null,
    })),
  };
}
