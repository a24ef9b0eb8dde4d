import { ApiProperty } from '@nestjs/swagger';
import type { UsageRecordView } from '#polystore/messaging';

export class UsageRecordDto implements UsageRecordView {
  @ApiProperty({ format: 'uuid' }) deviceId!: string;
  @ApiProperty({ format: 'date-time' }) periodStart!: string;
  @ApiProperty() metric!: string;
  @ApiProperty() amount!: number;
}

export class UsagePageDto {
  @ApiProperty({ type: [UsageRecordDto] }) items!: UsageRecordDto[];
  @ApiProperty({ description: 'True when more records matched than were returned' }) truncated!: boolean;
}
