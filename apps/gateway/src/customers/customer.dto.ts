import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { CustomerView, RequestOf, Contracts } from '#polystore/messaging';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

type Create = RequestOf<typeof Contracts.secure.customers.create>;
type Search = RequestOf<typeof Contracts.secure.customers.search>;

export class CreateCustomerDto implements Create {
  @ApiProperty({ example: 'Ada Lovelace', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiPropertyOptional({ example: '+44 20 7946 0000', maxLength: 32 })
  @IsOptional()
  @IsString()
  @Matches(/^\+?[0-9 ().-]{3,32}$/, { message: 'phone must be digits, spaces, ().- and an optional leading +' })
  phone?: string;
}

export class SearchCustomersDto implements Search {
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email!: string;
}

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
