import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type ResponseOf } from '#polystore/messaging';
import { AuditCheckpointer } from './audit-checkpointer.service.js';
import { AuditLog } from './audit-log.service.js';
import { AuditVerifier } from './audit-verifier.service.js';

const A = Contracts.secure.audit;

/** NATS handlers for the audit log. */
@Controller()
export class AuditHandler {
  constructor(
    private readonly audit: AuditLog,
    private readonly verifier: AuditVerifier,
    private readonly checkpointer: AuditCheckpointer,
  ) {}

  @Handles(A.list)
  list(@Payload() request: ParsedRequestOf<typeof A.list>): Promise<ResponseOf<typeof A.list>> {
    return this.audit.list(request.afterSeq, request.limit);
  }

  @Handles(A.verify)
  verify(@Payload() request: ParsedRequestOf<typeof A.verify>): Promise<ResponseOf<typeof A.verify>> {
    return this.verifier.verify(request.mode);
  }

  @Handles(A.checkpoint)
  checkpoint(): Promise<ResponseOf<typeof A.checkpoint>> {
    return this.checkpointer.checkpointCurrentTenant();
  }
}
