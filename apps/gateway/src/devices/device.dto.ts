import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DEVICE_STATUSES, type DeviceStatus, type DeviceView } from '#polystore/messaging';

export class DeviceDto implements DeviceView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: DEVICE_STATUSES }) status!: DeviceStatus;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) customerId!: string | null;
  @ApiProperty() version!: number;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class DevicePageDto {
  @ApiProperty({ type: [DeviceDto] }) items!: DeviceDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class RegisteredDeviceDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) sagaId!: string;
  @ApiPropertyOptional({
    description: 'Device credential (a NATS user JWT) for MQTT (password) and HTTP ingest (bearer); shown once',
  })
  token?: string;
}

export class MqttAccessDto {
  @ApiProperty({ description: 'MQTT username (the device id)' }) username!: string;
  @ApiProperty({ example: 'tenants/acme/devices/<id>/telemetry' }) topic!: string;
}

export class DeviceCredentialDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The new generation (1 at registration, one more per rotation)' }) generation!: number;
  @ApiProperty({ format: 'uuid', description: 'The rotation saga (GET /v1/sagas/{sagaId})' }) sagaId!: string;
  @ApiPropertyOptional({
    description:
      'Device credential (a NATS user JWT): MQTT password and HTTP ingest bearer; shown once (a retry with the same Idempotency-Key answers without it). The previous one is refused from now on.',
  })
  token?: string;
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Renew before this with POST /credentials/renew (edge store)',
  })
  expiresAt?: string;
  @ApiPropertyOptional({ type: MqttAccessDto }) mqtt?: MqttAccessDto;
}

export class CredentialGenerationDto {
  @ApiProperty() generation!: number;
  @ApiProperty({ format: 'date-time' }) issuedAt!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'When it stopped being accepted (the next rotation, or the deletion); null: in use',
  })
  revokedAt!: string | null;
}

export class CredentialHistoryDto {
  @ApiProperty({ type: [CredentialGenerationDto], description: 'Newest first' }) items!: CredentialGenerationDto[];
}

export class AcceptedDto {
  @ApiProperty({ format: 'uuid' }) sagaId!: string;
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({
    example: '/v1/sagas/0b6c3d2e-…',
    description: 'Where to follow the operation (also the Location header)',
  })
  statusUrl!: string;
}
