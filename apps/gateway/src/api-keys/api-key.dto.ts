import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_SCOPES, type ApiKeyScope } from '#polystore/catalog';

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
