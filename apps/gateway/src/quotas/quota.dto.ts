import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

const LIMIT_DOC = '0 = unlimited; null = back to the deployment default (QUOTA_*); left out = unchanged';

/** A tenant's own quota limits: each field optional. */
export class PutQuotasDto {
  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    example: 1000,
    description: `Registered devices; ${LIMIT_DOC}`,
  })
  @IsOptional()
  @IsInt({ message: 'devices must be an integer (0 = unlimited) or null' })
  @Min(0, { message: 'devices must be 0 (unlimited) or more' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'devices is too large' })
  devices?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    example: 50000,
    description: `Customers; ${LIMIT_DOC}`,
  })
  @IsOptional()
  @IsInt({ message: 'customers must be an integer (0 = unlimited) or null' })
  @Min(0, { message: 'customers must be 0 (unlimited) or more' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'customers is too large' })
  customers?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    example: 10_737_418_240,
    description: `Bytes of the tenant's data across its stores; ${LIMIT_DOC}`,
  })
  @IsOptional()
  @IsInt({ message: 'storageBytes must be an integer number of bytes (0 = unlimited) or null' })
  @Min(0, { message: 'storageBytes must be 0 (unlimited) or more' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'storageBytes is too large' })
  storageBytes?: number | null;
}

export class QuotaUsageDto {
  @ApiProperty({ description: '0 = unlimited' }) limit!: number;
  @ApiProperty({ enum: ['tenant', 'default'], description: "tenant: this tenant's own; default: QUOTA_*" })
  source!: 'tenant' | 'default';
  @ApiProperty({ type: Number, nullable: true, description: 'null: its store did not answer' }) used!: number | null;
}

export class StorageUsageDto extends QuotaUsageDto {
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When `used` was measured (at most QUOTA_STORAGE_REFRESH_MS ago while writes come in)',
  })
  measuredAt!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number', nullable: true },
    description: 'Bytes per store (null: not measured there, MongoDB)',
  })
  byStore!: Record<string, number | null>;
}

export class QuotasDto {
  @ApiProperty({ type: QuotaUsageDto, description: 'Registered devices (pending ones included)' })
  devices!: QuotaUsageDto;
  @ApiProperty({ type: QuotaUsageDto }) customers!: QuotaUsageDto;
  @ApiProperty({ type: StorageUsageDto, description: "Bytes of the tenant's data across its stores" })
  storage!: StorageUsageDto;
}
