import { ApiProperty } from '@nestjs/swagger';

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
