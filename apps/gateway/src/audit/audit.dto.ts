import { ApiProperty } from '@nestjs/swagger';
import type { AuditEntryView, AuditVerdictView, AuditVerifyMode } from '#polystore/messaging';

export class AuditEntryDto implements AuditEntryView {
  @ApiProperty() seq!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ example: 'customer.read' }) action!: string;
  @ApiProperty({ nullable: true, type: String }) subjectId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'API key id' }) actor!: string | null;
  @ApiProperty() correlationId!: string;
  @ApiProperty({ example: 'ok' }) outcome!: string;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] }) items!: AuditEntryDto[];
  @ApiProperty({ nullable: true, type: Number }) nextAfterSeq!: number | null;
}

const VERIFY_MODES: readonly AuditVerifyMode[] = ['checkpoint', 'full'];

export class AuditCheckpointViewDto {
  @ApiProperty() seq!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({
    enum: ['verified', 'forged', 'unverifiable'],
    description:
      '`forged`: the signature does not match; `unverifiable`: signed by a master key version not configured',
  })
  status!: 'verified' | 'forged' | 'unverifiable';
}

export class AuditRangeDto {
  @ApiProperty() fromSeq!: number;
  @ApiProperty() toSeq!: number;
}

export class AuditVerdictDto implements AuditVerdictView {
  @ApiProperty() valid!: boolean;
  @ApiProperty({ description: 'Records whose hash was recomputed' }) checked!: number;
  @ApiProperty({ nullable: true, type: Number }) firstInvalidSeq!: number | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'truncated',
    description:
      '`record missing`, `record modified`, `broken link`, `head mismatch`, `head missing`, `checkpoint mismatch`, `truncated`, `checkpoint forged`, `checkpoint unverifiable`',
  })
  reason!: string | null;
  @ApiProperty({ enum: VERIFY_MODES, description: 'The walk that ran (`full` when there is no trusted checkpoint)' })
  mode!: AuditVerifyMode;
  @ApiProperty({ nullable: true, type: Number, description: 'First record checked' }) fromSeq!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Last record checked' }) toSeq!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The head when the check started' })
  headSeq!: number | null;
  @ApiProperty({ nullable: true, type: AuditCheckpointViewDto, description: 'The latest checkpoint in the catalog' })
  checkpoint!: AuditCheckpointViewDto | null;
  @ApiProperty({
    nullable: true,
    type: AuditRangeDto,
    description: 'Records proven missing at the end of the chain (truncation)',
  })
  missing!: AuditRangeDto | null;
}
