import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { API_KEY_SCOPES, type ApiKeyScope } from '#polystore/catalog';

/** A new API key. Everything is optional: `default`, scope `full`, never expires. */
export class CreateApiKeyDto {
  @ApiPropertyOptional({ example: 'ci', maxLength: 100 })
  @IsOptional()
  @IsString({ message: 'name must be a string' })
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @Matches(/^[^\p{Cc}]+$/u, { message: 'name must not contain control characters' })
  name?: string;

  @ApiPropertyOptional({
    enum: API_KEY_SCOPES,
    isArray: true,
    example: ['read-only'],
    description:
      'full: everything, API keys included; read-only: reads (GET, and searches); devices: the /v1/devices routes. Default: full.',
  })
  @IsOptional()
  @IsArray({ message: 'scopes must be an array' })
  @ArrayMinSize(1, { message: 'scopes must name at least one scope' })
  @ArrayMaxSize(API_KEY_SCOPES.length, { message: `scopes must name each scope at most once` })
  @ArrayUnique({ message: 'scopes must name each scope at most once' })
  @IsIn(API_KEY_SCOPES, { each: true, message: `scopes must each be one of ${API_KEY_SCOPES.join(', ')}` })
  scopes?: ApiKeyScope[];

  @ApiPropertyOptional({ format: 'date-time', description: 'Refused from then on; in the future. Default: never.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time' })
  expiresAt?: string;
}

/** Rotating a key: how long the old one keeps working. */
export class RotateApiKeyDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 2_592_000, default: 3_600 })
  @IsOptional()
  @IsInt({ message: 'overlapSeconds must be an integer' })
  @Min(0, { message: 'overlapSeconds must be at least 0' })
  @Max(2_592_000, { message: 'overlapSeconds must be at most 2592000 (30 days)' })
  overlapSeconds?: number;
}

/** An API key as listed: never its secret. */
export class ApiKeyDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'First characters of the key, to recognise it' }) prefix!: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes!: ApiKeyScope[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'Recorded about once a minute' })
  lastUsedAt!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The key that replaced it by rotation' })
  replacedBy!: string | null;
}

/** A key just created or rotated, with its secret: shown this once. */
export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'Shown once; store it now. Only its hash is kept.' }) apiKey!: string;
}

export class ApiKeyListDto {
  @ApiProperty({ type: [ApiKeyDto] }) items!: ApiKeyDto[];
}
