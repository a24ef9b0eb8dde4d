import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  TELEMETRY_BUCKETS,
  type TelemetryBucket,
  type TelemetryBucketRow,
  type TelemetryPoint,
} from '#polystore/messaging';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class TelemetryQueryDto {
  @ApiProperty({ example: '2026-11-27T00:00:00Z', description: 'Inclusive start (device time, ISO 8601)' })
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from!: string;

  @ApiProperty({ example: '2026-11-28T00:00:00Z', description: 'Exclusive end (ISO 8601)' })
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to!: string;

  @ApiPropertyOptional({
    enum: TELEMETRY_BUCKETS,
    description: 'Aggregate per bucket (avg, min, max, count per metric)',
  })
  @IsOptional()
  @IsIn(TELEMETRY_BUCKETS, { message: `bucket must be one of ${TELEMETRY_BUCKETS.join(', ')}` })
  bucket?: TelemetryBucket;

  @ApiPropertyOptional({ default: 1000, maximum: 10000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(10_000)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page (raw points only)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class TelemetryPointDto implements TelemetryPoint {
  @ApiProperty() seq!: number;
  @ApiProperty({ format: 'date-time', description: 'Device time' }) ts!: string;
  @ApiProperty({ format: 'date-time', description: 'Receive time' }) receivedAt!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) metrics!: Record<string, number>;
}

export class TelemetryBucketDto implements TelemetryBucketRow {
  @ApiProperty({ format: 'date-time' }) start!: string;
  @ApiProperty() metric!: string;
  @ApiProperty() avg!: number;
  @ApiProperty() min!: number;
  @ApiProperty() max!: number;
  @ApiProperty() count!: number;
}

export class TelemetryPageDto {
  @ApiPropertyOptional({ type: [TelemetryPointDto] }) points?: TelemetryPointDto[];
  @ApiPropertyOptional({ type: [TelemetryBucketDto] }) buckets?: TelemetryBucketDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
