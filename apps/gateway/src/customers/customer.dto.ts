import { ApiProperty } from '@nestjs/swagger';
import type { CustomerView } from '#polystore/messaging';

export class CustomerDto implements CustomerView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ nullable: true, type: String }) phone!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class CustomerListDto {
  @ApiProperty({ type: [CustomerDto] }) items!: CustomerDto[];
}

/** 202 of `DELETE /v1/customers/{id}`: the erasure goes on in the background. */
export class ErasureAcceptedDto {
  @ApiProperty({ format: 'uuid', description: 'Follow it with GET /v1/sagas/{sagaId}' }) sagaId!: string;
}
