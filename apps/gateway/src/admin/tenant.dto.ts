import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export class CreateTenantDto {
  @ApiProperty({ example: 'acme', pattern: '^[a-z][a-z0-9-]{1,39}$' })
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{1,39}$/, { message: 'slug must match ^[a-z][a-z0-9-]{1,39}$' })
  slug!: string;

  @ApiProperty({ example: 'Acme Corp', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;
}

export class CreatedTenantDto {
  @ApiProperty() slug!: string;
  @ApiProperty({ description: 'Shown once; store it now. Only its hash is kept.' }) apiKey!: string;
}

export class PlacementDto {
  @ApiProperty({ example: 'secure' }) store!: string;
  @ApiProperty({ example: 'postgres://127.0.0.1:5432', description: 'Server, without credentials' }) server!: string;
  @ApiProperty() database!: string;
  @ApiProperty() version!: number;
}

export class TenantDto {
  @ApiProperty() slug!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['provisioning', 'active', 'deleting'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: [PlacementDto] }) placements!: PlacementDto[];
}

export class TenantListDto {
  @ApiProperty({ type: [TenantDto] }) items!: TenantDto[];
}
