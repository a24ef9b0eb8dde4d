import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CatalogAdminService, CatalogService } from '#polystore/catalog';
import { MessageClient } from '#polystore/messaging';
import { SagaOrchestrator } from '#polystore/saga';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { StoreDirectory } from '../stores/store-directory.js';
import { customerErasureSaga } from './customer-erasure.saga.js';
import { deviceCredentialRotationSaga } from './device-credential-rotation.saga.js';
import { deviceDeletionSaga } from './device-deletion.saga.js';
import { deviceRegistrationSaga } from './device-registration.saga.js';
import { tenantProvisioningSaga } from './tenant-provisioning.saga.js';

/**
 * The gateway's saga definitions, registered with the orchestrator before its recovery sweeper
 * starts (sagas resumed after a crash find their definition). Keep a version registered while
 * instances of it may still be in flight.
 */
@Injectable()
export class SagaRegistry implements OnModuleInit {
  readonly tenantProvisioning;
  readonly deviceRegistration;
  readonly deviceCredentialRotation;
  readonly deviceDeletion;
  readonly customerErasure;

  constructor(
    private readonly orchestrator: SagaOrchestrator,
    messages: MessageClient,
    admin: CatalogAdminService,
    catalog: CatalogService,
    directory: StoreDirectory,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.tenantProvisioning = tenantProvisioningSaga(
      { admin, catalog, messages, stores: directory.stores },
      config.PROVISION_TIMEOUT_MS,
    );
    this.deviceRegistration = deviceRegistrationSaga(messages, config.SAGA_DEVICE_REGISTRATION_DEADLINE_MS);
    this.deviceCredentialRotation = deviceCredentialRotationSaga(messages, config.SAGA_DEVICE_REGISTRATION_DEADLINE_MS);
    this.deviceDeletion = deviceDeletionSaga(messages);
    this.customerErasure = customerErasureSaga({ messages, catalog });
  }

  onModuleInit(): void {
    this.orchestrator.register(this.tenantProvisioning);
    this.orchestrator.register(this.deviceRegistration);
    this.orchestrator.register(this.deviceCredentialRotation);
    this.orchestrator.register(this.deviceDeletion);
    this.orchestrator.register(this.customerErasure);
  }
}
