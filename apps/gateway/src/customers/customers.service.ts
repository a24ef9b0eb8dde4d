import { Injectable } from '@nestjs/common';
import { CodedError, ErrorKind } from '#polystore/platform';
import { Contracts, MessageClient, type CreateCustomerBody, type CustomerView } from '#polystore/messaging';
import { SagaOrchestrator } from '#polystore/saga';
import { RequestContextStore } from '#polystore/tenancy';
import { CurrentTenant } from '../context/current-tenant.service.js';
import { QuotaService } from '../quotas/quota.service.js';
import { SagaRegistry } from '../sagas/saga-registry.service.js';
import { sagaFailure, stillRunning, succeeded, UNTIL_DECIDED } from '../sagas/saga-outcome.util.js';

const C = Contracts.secure.customers;

/** Customer use cases, served by the secure store. */
@Injectable()
export class CustomersService {
  constructor(
    private readonly messages: MessageClient,
    private readonly orchestrator: SagaOrchestrator,
    private readonly sagas: SagaRegistry,
    private readonly tenants: CurrentTenant,
    private readonly quotas: QuotaService,
  ) {}

  /**
   * With an `Idempotency-Key`, the secure store stores the key with the customer (one transaction).
   * Refused with `QUOTA_EXCEEDED` when the tenant's storage quota is reached (here) or its
   * customers quota (counted by the secure store in the insert's transaction).
   */
  async create(input: CreateCustomerBody, idempotencyKey?: string): Promise<CustomerView> {
    const maxCustomers = await this.quotas.customersLimit(await this.tenants.get());
    return this.messages.request(C.create, {
      name: input.name,
      email: input.email,
      phone: input.phone ?? null,
      ...(idempotencyKey ? { idempotencyKey } : {}),
      ...(maxCustomers ? { maxCustomers } : {}),
    });
  }

  get(id: string): Promise<CustomerView> {
    return this.messages.request(C.get, { id });
  }

  async search(email: string): Promise<CustomerView[]> {
    return (await this.messages.request(C.search, { email })).items;
  }

  /**
   * Erasure (a forward-only saga): PII deleted in the secure store, references anonymized in the
   * reliable store, the customer's devices' telemetry deleted in the edge store. Resolves with
   * `null` when done within the deadline, with the saga id when it goes on in the background.
   */
  async erase(id: string): Promise<string | null> {
    const tenant = await this.tenants.get();
    const sagaId = await this.orchestrator.start(
      this.sagas.customerErasure,
      { customerId: id },
      { tenant: tenant.slug, tenantId: tenant.id },
    );
    const saga = await this.orchestrator.waitFor(
      sagaId,
      Math.max(0, RequestContextStore.remainingMs() - 300),
      UNTIL_DECIDED,
    );
    if (stillRunning(saga)) return sagaId;
    if (!succeeded(saga)) throw sagaFailure(saga);
    const pii = saga.steps.find((s) => s.step === 'pii')?.output as { erased?: boolean } | undefined;
    if (pii?.erased === false)
      throw new CodedError('CUSTOMER_NOT_FOUND', ErrorKind.NOT_FOUND, `customer ${id} not found`, { id });
    return null;
  }
}
