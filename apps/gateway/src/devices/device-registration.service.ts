import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { IdempotencyException } from '#polystore/idempotency';
import type { RegisterDeviceBody } from '#polystore/messaging';
import { sha256 } from '#polystore/platform';
import { SagaOrchestrator, StepState, type SagaRecord } from '#polystore/saga';
import { RequestContextStore } from '#polystore/tenancy';
import { CurrentTenant } from '../context/current-tenant.service.js';
import { QuotaService } from '../quotas/quota.service.js';
import { SagaRegistry } from '../sagas/saga-registry.service.js';
import {
  sagaFailure,
  sagaStatusPath,
  stillRunning,
  succeeded,
  UNTIL_DECIDED,
  uuidFrom,
} from '../sagas/saga-outcome.util.js';
import { DevicesService } from './devices.service.js';

/** What the HTTP layer answers for a device operation run as a saga. */
export type SagaAnswer<T> =
  { status: 201 | 204; body: T } | { status: 202; body: { sagaId: string; id: string; statusUrl: string } };

/** A rotated credential: the token only in the first answer of a rotation. */
export interface RotatedCredential {
  readonly id: string;
  readonly generation: number;
  readonly sagaId: string;
  readonly token?: string;
  readonly expiresAt?: string;
  readonly mqtt?: { readonly username: string; readonly topic: string };
}

/** Registering, rotating and deleting devices: sagas across the reliable, secure and edge stores. */
@Injectable()
export class DeviceRegistrationService {
  constructor(
    private readonly orchestrator: SagaOrchestrator,
    private readonly sagas: SagaRegistry,
    private readonly devices: DevicesService,
    private readonly tenants: CurrentTenant,
    private readonly quotas: QuotaService,
  ) {}

  /**
   * Starts the registration saga and waits for it within the request's deadline: 201 with the
   * device's token (shown this once) when it completes, 202 with the saga id and its status URL
   * otherwise. With an `Idempotency-Key`, a repeated request joins the same saga and gets its
   * outcome: 201 with the same body (the token is never shown again), 202 while it runs, or the
   * same final error ({@link sagaFailure}) once it failed.
   *
   * A new registration is first admitted against the tenant's quotas (storage, devices:
   * {@link QuotaService.admitDevice}); refused, it answers `429 QUOTA_EXCEEDED` and no saga
   * starts, so nothing is left half done.
   */
  async register(
    dto: RegisterDeviceBody,
    idempotencyKey?: string,
  ): Promise<SagaAnswer<{ id: string; token?: string; sagaId: string }>> {
    const tenant = await this.tenants.get();
    // By the tenant's id: the same key sent by a tenant created again under this slug is another request.
    const scoped = idempotencyKey ? `${tenant.id}:${idempotencyKey}` : null;
    const deviceId = scoped ? uuidFrom(`device-registration:device:${scoped}`, sha256) : randomUUID();
    const sagaId = scoped ? uuidFrom(`device-registration:saga:${scoped}`, sha256) : randomUUID();
    const input = { deviceId, name: dto.name, model: dto.model, customerId: dto.customerId ?? null };
    // A repeat of a registration joins it, quota or not; a new one is admitted first (nothing started if not).
    const release = await this.quotas.admitDevice(
      tenant,
      async () => scoped !== null && (await this.orchestrator.find(sagaId)) !== null,
    );
    let saga: SagaRecord;
    try {
      await this.orchestrator.start(this.sagas.deviceRegistration, input, {
        tenant: tenant.slug,
        tenantId: tenant.id,
        id: sagaId,
      });
      saga = await this.orchestrator.waitFor(
        sagaId,
        Math.max(0, RequestContextStore.remainingMs() - 300),
        UNTIL_DECIDED,
      );
    } catch (error) {
      release();
      throw error;
    }
    this.releaseOnceCounted(saga, release);
    const { deviceId: _id, ...sent } = input;
    const { deviceId: _stored, ...stored } = saga.input as typeof input;
    if (JSON.stringify(sent) !== JSON.stringify(stored)) throw IdempotencyException.mismatch();
    if (stillRunning(saga)) return accepted(sagaId, deviceId);
    if (!succeeded(saga)) throw sagaFailure(saga);
    // Once shown, the answer needs no store: a replay is answered even while one is down.
    if ((saga.output as { tokenShown?: boolean } | null)?.tokenShown)
      return { status: 201, body: { id: deviceId, sagaId } };
    // The credential is fetched before the flag is claimed: a failed fetch leaves it to be shown
    // later. Only the registration's own generation: a rotation since leaves nothing to show.
    const credential = await this.devices.issuedCredential(deviceId, saga.output);
    if (!credential) return { status: 201, body: { id: deviceId, sagaId } };
    const show = await this.orchestrator.claimOutputFlag(sagaId, 'tokenShown');
    return { status: 201, body: { id: deviceId, sagaId, ...(show ? { token: credential.token } : {}) } };
  }

  /**
   * Frees the registration's place in the devices quota gate once the registry counts it: at
   * once when the saga is decided or its registry step done (its row is written, or never will
   * be); otherwise (a 202: a store slow or down) after the saga's deadline, without polling the log.
   */
  private releaseOnceCounted(saga: SagaRecord, release: () => void): void {
    const registry = saga.steps.find((step) => step.step === 'registry');
    if (!stillRunning(saga) || registry?.state === StepState.SUCCEEDED) release();
    else setTimeout(release, this.sagas.deviceRegistration.deadlineMs).unref();
  }

  /**
   * Starts the rotation saga (edge: next generation, the old one refused; secure: the history) and
   * waits for it within the request's deadline: 201 with the new credential (its token shown this
   * once) when it completes, 202 with the saga's status URL otherwise. With an `Idempotency-Key`, a
   * repeated request joins the same rotation: one new generation, 201 without the token once it was
   * shown (or once a later rotation replaced it), 202 while it runs, or the same final error.
   */
  async rotate(deviceId: string, idempotencyKey?: string): Promise<SagaAnswer<RotatedCredential>> {
    const tenant = await this.tenants.get();
    const scoped = idempotencyKey ? `${tenant.id}:${idempotencyKey}` : null;
    const sagaId = scoped ? uuidFrom(`device-credential-rotation:saga:${scoped}`, sha256) : randomUUID();
    await this.orchestrator.start(
      this.sagas.deviceCredentialRotation,
      { deviceId },
      { tenant: tenant.slug, tenantId: tenant.id, id: sagaId },
    );
    const saga = await this.orchestrator.waitFor(
      sagaId,
      Math.max(0, RequestContextStore.remainingMs() - 300),
      UNTIL_DECIDED,
    );
    if ((saga.input as { deviceId: string }).deviceId !== deviceId) throw IdempotencyException.mismatch();
    if (stillRunning(saga)) return accepted(sagaId, deviceId);
    if (!succeeded(saga)) throw sagaFailure(saga);
    const { generation, tokenShown } = saga.output as { generation: number; tokenShown?: boolean };
    if (tokenShown) return { status: 201, body: { id: deviceId, generation, sagaId } };
    // This rotation's generation only: a later rotation that replaced it before this key's first
    // 201 (this one answered 202, say) leaves nothing to show, never the later one's token.
    const credential = await this.devices.issuedCredential(deviceId, saga.output);
    if (!credential) return { status: 201, body: { id: deviceId, generation, sagaId } };
    const show = await this.orchestrator.claimOutputFlag(sagaId, 'tokenShown');
    const { token, expiresAt, mqtt } = credential;
    return {
      status: 201,
      body: { id: deviceId, generation, sagaId, mqtt, ...(show ? { token, ...(expiresAt ? { expiresAt } : {}) } : {}) },
    };
  }

  /** Starts the (forward-only) deletion saga: 204 when done within the deadline, 202 otherwise. */
  async delete(deviceId: string): Promise<SagaAnswer<undefined>> {
    const tenant = await this.tenants.get();
    const sagaId = await this.orchestrator.start(
      this.sagas.deviceDeletion,
      { deviceId },
      { tenant: tenant.slug, tenantId: tenant.id },
    );
    const saga = await this.orchestrator.waitFor(
      sagaId,
      Math.max(0, RequestContextStore.remainingMs() - 300),
      UNTIL_DECIDED,
    );
    if (stillRunning(saga)) return accepted(sagaId, deviceId);
    if (!succeeded(saga)) throw sagaFailure(saga);
    return { status: 204, body: undefined };
  }
}

function accepted(sagaId: string, id: string): SagaAnswer<never> {
  return { status: 202, body: { sagaId, id, statusUrl: sagaStatusPath(sagaId) } };
}
