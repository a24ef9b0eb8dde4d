import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { METRIC_NAME_PATTERN, type UsageRecordView } from '#polystore/messaging';
import { IsISO8601, IsOptional, IsUUID, Matches } from 'class-validator';

export class UsageQueryDto {
  @ApiProperty({ example: '2026-11-01T00:00:00Z', description: 'Inclusive start (ISO 8601)' })
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from!: string;

  @ApiProperty({ example: '2026-12-01T00:00:00Z', description: 'Exclusive end (ISO 8601)' })
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to!: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'deviceId must be a UUID' })
  deviceId?: string;

  @ApiPropertyOptional({ pattern: METRIC_NAME_PATTERN.source })
  @IsOptional()
  @Matches(METRIC_NAME_PATTERN, { message: 'metric must be 1-64 characters of [A-Za-z0-9_.:-]' })
  metric?: string;
}

export class UsageRecordDto implements UsageRecordView {
  @ApiProperty({ format: 'uuid' }) deviceId!: string;
  @ApiProperty({ format: 'date-time' }) periodStart!: string;
  @ApiProperty() metric!: string;
  @ApiProperty() amount!: number;
}

export class UsagePageDto {
  @ApiProperty({ type: [UsageRecordDto] }) items!: UsageRecordDto[];
  @ApiProperty({ description: 'True when more records matched than were returned' }) truncated!: boolean;
}
