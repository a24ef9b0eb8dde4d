import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type ResponseOf } from '#polystore/messaging';
import { AuditLog } from './audit-log.service.js';

const A = Contracts.secure.audit;

/** NATS handlers for the audit log. */
@Controller()
export class AuditHandler {
  constructor(private readonly audit: AuditLog) {}

  @Handles(A.list)
  list(@Payload() request: ParsedRequestOf<typeof A.list>): Promise<ResponseOf<typeof A.list>> {
    return this.audit.list(request.afterSeq, request.limit);
  }

  @Handles(A.verify)
  verify(): Promise<ResponseOf<typeof A.verify>> {
    return this.audit.verify();
  }
}
