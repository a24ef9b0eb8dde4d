import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEntryView } from '#polystore/messaging';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class AuditQueryDto {
  @ApiPropertyOptional({ description: 'Return records after this sequence number', default: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'afterSeq must be an integer' })
  @Min(0)
  afterSeq?: number;

  @ApiPropertyOptional({ default: 100, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(500)
  limit?: number;
}

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

export class AuditVerdictDto {
  @ApiProperty() valid!: boolean;
  @ApiProperty() checked!: number;
  @ApiProperty({ nullable: true, type: Number }) firstInvalidSeq!: number | null;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
}
