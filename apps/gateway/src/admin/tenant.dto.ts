import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { STORE_NAMES } from '#polystore/catalog';
import { PLACEMENT_KINDS, type PlacementKind } from '#polystore/data-router';
import { TENANT_SLUG_PATTERN } from '#polystore/tenancy';

/** Where one store places the new tenant, when the default does not suit. */
export class PlacementChoiceDto {
  @ApiProperty({ enum: STORE_NAMES, example: 'secure' })
  @IsIn(STORE_NAMES, { message: `store must be one of ${STORE_NAMES.join(', ')}` })
  store!: string;

  @ApiPropertyOptional({
    enum: PLACEMENT_KINDS,
    description:
      'schema: a schema of its own in the shared database (PostgreSQL); database: a database of its own on a shared server; dedicated: a server of its own (give `server`). Default: schema on PostgreSQL, database otherwise.',
  })
  @IsOptional()
  @IsIn(PLACEMENT_KINDS, { message: `kind must be one of ${PLACEMENT_KINDS.join(', ')}` })
  kind?: PlacementKind;

  @ApiPropertyOptional({
    example: 'postgres://polystore@10.0.0.7:5432',
    description: "The server (required for dedicated); a password in it is stored sealed. Default: the store's server.",
  })
  @IsOptional()
  @IsString({ message: 'server must be a server URL' })
  @Length(1, 500, { message: 'server must be a server URL of at most 500 characters' })
  server?: string;
}

export class CreateTenantDto {
  @ApiProperty({ example: 'acme', pattern: TENANT_SLUG_PATTERN.source })
  @IsString()
  @Matches(TENANT_SLUG_PATTERN, { message: `slug must match ${TENANT_SLUG_PATTERN.source}` })
  slug!: string;

  @ApiProperty({ example: 'Acme Corp', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ type: [PlacementChoiceDto], description: 'Per store; stores not named get the default.' })
  @IsOptional()
  @IsArray({ message: 'placements must be an array' })
  @ArrayMaxSize(STORE_NAMES.length, { message: `placements must name each store at most once` })
  @ValidateNested({ each: true })
  @Type(() => PlacementChoiceDto)
  placements?: PlacementChoiceDto[];
}

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

export class RestoreTenantDto {
  @ApiPropertyOptional({
    example: 'acme-restored',
    pattern: TENANT_SLUG_PATTERN.source,
    description: 'Default: the slug it had (if still free)',
  })
  @IsOptional()
  @IsString({ message: 'slug must be a string' })
  @Matches(TENANT_SLUG_PATTERN, { message: `slug must match ${TENANT_SLUG_PATTERN.source}` })
  slug?: string;
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
