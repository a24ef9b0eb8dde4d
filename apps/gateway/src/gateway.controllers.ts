import type { Type } from '@nestjs/common';
import { TenantAdminController } from './admin/tenant-admin.controller.js';
import { AdminApiKeysController, ApiKeysController } from './api-keys/api-keys.controller.js';
import { AuditController } from './audit/audit.controller.js';
import { CustomersController } from './customers/customers.controller.js';
import { DevicesController } from './devices/devices.controller.js';
import { HealthController } from './health/health.controller.js';
import { AdminQuotasController, QuotasController } from './quotas/quotas.controller.js';
import { AdminSagasController, SagasController } from './sagas/sagas.controller.js';
import { UsageController } from './usage/usage.controller.js';

/** Every HTTP controller of the gateway: the module serves them, the OpenAPI document describes them. */
export const GATEWAY_CONTROLLERS: readonly Type[] = [
  HealthController,
  TenantAdminController,
  CustomersController,
  AuditController,
  DevicesController,
  UsageController,
  SagasController,
  AdminSagasController,
  ApiKeysController,
  AdminApiKeysController,
  QuotasController,
  AdminQuotasController,
];
