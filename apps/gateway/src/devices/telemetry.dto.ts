import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { TelemetryBucketRow, TelemetryPoint } from '#polystore/messaging';

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
