import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PLACEMENT_KINDS } from '#polystore/data-router';

export class CreatedTenantDto {
  @ApiProperty() slug!: string;
  @ApiPropertyOptional({
    description:
      'Shown once; store it now. Only its hash is kept. Absent from a replay (same Idempotency-Key) after the first answer.',
  })
  apiKey?: string;
}

/** 202 of `POST /admin/tenants`: provisioning goes on in the background. */
export class ProvisioningTenantDto {
  @ApiProperty() slug!: string;
  @ApiProperty({ format: 'uuid' }) sagaId!: string;
  @ApiProperty({ example: '/admin/sagas/0b6c3d2e-…', description: 'Where to follow it (also the Location header)' })
  statusUrl!: string;
}

export class DeletedTenantDto {
  @ApiProperty({ format: 'uuid', description: 'Restore or purge it by this id' }) id!: string;
  @ApiProperty({ description: 'The slug it had: free for a new tenant from now on' }) formerSlug!: string;
  @ApiProperty({ format: 'date-time', description: 'Its data is destroyed after this instant' }) purgeAfter!: string;
}

export class PlacementDto {
  @ApiProperty({ example: 'secure' }) store!: string;
  @ApiProperty({ enum: PLACEMENT_KINDS }) kind!: string;
  @ApiProperty({ example: 'postgres://127.0.0.1:5432', description: 'Server, without credentials' }) server!: string;
  @ApiProperty() database!: string;
  @ApiPropertyOptional({ description: 'schema placements: the tenant schema in the shared database' }) schema?: string;
  @ApiProperty() version!: number;
}

export class TenantDto {
  @ApiProperty() slug!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['provisioning', 'active', 'deleting', 'deleted'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'deleted tenants: restore or purge by it' }) id?: string;
  @ApiPropertyOptional({ description: 'deleted tenants: the slug they had' }) formerSlug?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'deleted tenants: when their data goes' })
  purgeAfter?: string;
  @ApiProperty({ type: [PlacementDto] }) placements!: PlacementDto[];
}

export class TenantListDto {
  @ApiProperty({ type: [TenantDto] }) items!: TenantDto[];
}
