// Generated from docs/openapi.json by `npm run openapi` (openapi-typescript): do not edit.

export interface paths {
    "/health/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers (both ports) */
        get: operations["getLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the catalog, NATS and every store answer (admin port) */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/tenants": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the tenants, deleted ones in their grace period included */
        get: operations["listTenants"];
        put?: never;
        /** Create a tenant: its databases in every store, and its first API key */
        post: operations["createTenant"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/tenants/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete a tenant (restorable until its grace period ends) */
        delete: operations["deleteTenant"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/tenants/{id}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Restore a deleted tenant within its grace period, with a new API key */
        post: operations["restoreTenant"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/tenants/{id}/purge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Destroy a deleted tenant's data now */
        post: operations["purgeTenant"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/customers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a customer */
        post: operations["createCustomer"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/customers/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Find customers by email (exact match) */
        post: operations["searchCustomers"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/customers/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a customer */
        get: operations["getCustomer"];
        put?: never;
        post?: never;
        /** Erase a customer everywhere (saga) */
        delete: operations["eraseCustomer"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Page through the tenant's audit log */
        get: operations["listAuditEntries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Check the audit log's hash chain (from the checkpoint, or in full) */
        get: operations["verifyAuditLog"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/devices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List devices, a page at a time */
        get: operations["listDevices"];
        put?: never;
        /** Register a device: registry, credential, edge provisioning, activation (saga) */
        post: operations["registerDevice"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/devices/{id}/credentials": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A device's credential generations: when each was issued and revoked (never the credential) */
        get: operations["listDeviceCredentials"];
        put?: never;
        /** Rotate a device's credential (the old one is refused from now on) */
        post: operations["rotateDeviceCredential"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/devices/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a device */
        get: operations["getDevice"];
        put?: never;
        post?: never;
        /** Delete a device: edge, secure, then the registry (saga) */
        delete: operations["deleteDevice"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/devices/{id}/telemetry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A device's telemetry: raw points, paged, or per-bucket aggregates */
        get: operations["getDeviceTelemetry"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Hourly usage amounts in a time window, per device and metric */
        get: operations["queryUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sagas/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A saga of this tenant: state, steps, errors */
        get: operations["getSaga"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/sagas": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List sagas, by state */
        get: operations["listSagas"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/sagas/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Any tenant's saga */
        get: operations["adminGetSaga"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/sagas/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Retry what failed in a parked saga */
        post: operations["retrySaga"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/sagas/{id}/skip": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Give up on what failed in a parked saga and close it */
        post: operations["skipSaga"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List the tenant's API keys */
        get: operations["listApiKeys"];
        put?: never;
        /** Create an API key (its secret is shown once) */
        post: operations["createApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an API key, at once on every gateway */
        delete: operations["revokeApiKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/api-keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replace an API key by a new one; the old one works a while longer */
        post: operations["rotateApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/tenants/{slug}/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List a tenant's API keys */
        get: operations["adminListApiKeys"];
        put?: never;
        /** Create an API key for a tenant */
        post: operations["adminCreateApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/tenants/{slug}/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke a tenant's API key */
        delete: operations["adminRevokeApiKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/tenants/{slug}/api-keys/{id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replace a tenant's API key by a new one */
        post: operations["adminRotateApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/quotas": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tenant's quotas and its usage against them */
        get: operations["getQuotas"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/admin/tenants/{slug}/quotas": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A tenant's quotas and usage */
        get: operations["adminGetQuotas"];
        /** Set a tenant's own limits (the fields given) */
        put: operations["adminPutQuotas"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ingest": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send one reading or up to 1,000 (the tenant and device are those of the credential) */
        post: operations["ingestReadings"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/credentials/renew": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A fresh credential of the same generation (renew before `expiresAt`) */
        post: operations["renewDeviceCredential"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        CreatedTenantDto: {
            slug: string;
            /** @description Shown once; store it now. Only its hash is kept. Absent from a replay (same Idempotency-Key) after the first answer. */
            apiKey?: string;
        };
        ProvisioningTenantDto: {
            slug: string;
            /** Format: uuid */
            sagaId: string;
            /**
             * @description Where to follow it (also the Location header)
             * @example /admin/sagas/0b6c3d2e-…
             */
            statusUrl: string;
        };
        PlacementDto: {
            /** @example secure */
            store: string;
            /** @enum {string} */
            kind: "schema" | "database" | "dedicated";
            /**
             * @description Server, without credentials
             * @example postgres://127.0.0.1:5432
             */
            server: string;
            database: string;
            /** @description schema placements: the tenant schema in the shared database */
            schema?: string;
            version: number;
        };
        TenantDto: {
            slug: string;
            name: string;
            /** @enum {string} */
            status: "provisioning" | "active" | "deleting" | "deleted";
            /** Format: date-time */
            createdAt: string;
            /**
             * Format: uuid
             * @description deleted tenants: restore or purge by it
             */
            id?: string;
            /** @description deleted tenants: the slug they had */
            formerSlug?: string;
            /**
             * Format: date-time
             * @description deleted tenants: when their data goes
             */
            purgeAfter?: string;
            placements: components["schemas"]["PlacementDto"][];
        };
        TenantListDto: {
            items: components["schemas"]["TenantDto"][];
        };
        DeletedTenantDto: {
            /**
             * Format: uuid
             * @description Restore or purge it by this id
             */
            id: string;
            /** @description The slug it had: free for a new tenant from now on */
            formerSlug: string;
            /**
             * Format: date-time
             * @description Its data is destroyed after this instant
             */
            purgeAfter: string;
        };
        CustomerDto: {
            /** Format: uuid */
            id: string;
            name: string;
            email: string;
            phone: string | null;
            /** Format: date-time */
            createdAt: string;
        };
        CustomerListDto: {
            items: components["schemas"]["CustomerDto"][];
        };
        ErasureAcceptedDto: {
            /**
             * Format: uuid
             * @description Follow it with GET /v1/sagas/{sagaId}
             */
            sagaId: string;
        };
        AuditEntryDto: {
            seq: number;
            /** Format: date-time */
            at: string;
            /** @example customer.read */
            action: string;
            subjectId: string | null;
            /** @description API key id */
            actor: string | null;
            correlationId: string;
            /** @example ok */
            outcome: string;
        };
        AuditPageDto: {
            items: components["schemas"]["AuditEntryDto"][];
            nextAfterSeq: number | null;
        };
        AuditCheckpointViewDto: {
            seq: number;
            /** Format: date-time */
            at: string;
            /**
             * @description `forged`: the signature does not match; `unverifiable`: signed by a master key version not configured
             * @enum {string}
             */
            status: "verified" | "forged" | "unverifiable";
        };
        AuditRangeDto: {
            fromSeq: number;
            toSeq: number;
        };
        AuditVerdictDto: {
            valid: boolean;
            /** @description Records whose hash was recomputed */
            checked: number;
            firstInvalidSeq: number | null;
            /**
             * @description `record missing`, `record modified`, `broken link`, `head mismatch`, `head missing`, `checkpoint mismatch`, `truncated`, `checkpoint forged`, `checkpoint unverifiable`
             * @example truncated
             */
            reason: string | null;
            /**
             * @description The walk that ran (`full` when there is no trusted checkpoint)
             * @enum {string}
             */
            mode: "checkpoint" | "full";
            /** @description First record checked */
            fromSeq: number | null;
            /** @description Last record checked */
            toSeq: number | null;
            /** @description The head when the check started */
            headSeq: number | null;
            /** @description The latest checkpoint in the catalog */
            checkpoint: components["schemas"]["AuditCheckpointViewDto"] | null;
            /** @description Records proven missing at the end of the chain (truncation) */
            missing: components["schemas"]["AuditRangeDto"] | null;
        };
        RegisteredDeviceDto: {
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            sagaId: string;
            /** @description Device credential (a NATS user JWT) for MQTT (password) and HTTP ingest (bearer); shown once */
            token?: string;
        };
        AcceptedDto: {
            /** Format: uuid */
            sagaId: string;
            /** Format: uuid */
            id: string;
            /**
             * @description Where to follow the operation (also the Location header)
             * @example /v1/sagas/0b6c3d2e-…
             */
            statusUrl: string;
        };
        MqttAccessDto: {
            /** @description MQTT username (the device id) */
            username: string;
            /** @example tenants/acme/devices/<id>/telemetry */
            topic: string;
        };
        DeviceCredentialDto: {
            /** Format: uuid */
            id: string;
            /** @description The new generation (1 at registration, one more per rotation) */
            generation: number;
            /**
             * Format: uuid
             * @description The rotation saga (GET /v1/sagas/{sagaId})
             */
            sagaId: string;
            /** @description Device credential (a NATS user JWT): MQTT password and HTTP ingest bearer; shown once (a retry with the same Idempotency-Key answers without it). The previous one is refused from now on. */
            token?: string;
            /**
             * Format: date-time
             * @description Renew before this with POST /credentials/renew (edge store)
             */
            expiresAt?: string;
            mqtt?: components["schemas"]["MqttAccessDto"];
        };
        CredentialGenerationDto: {
            generation: number;
            /** Format: date-time */
            issuedAt: string;
            /**
             * Format: date-time
             * @description When it stopped being accepted (the next rotation, or the deletion); null: in use
             */
            revokedAt: string | null;
        };
        CredentialHistoryDto: {
            /** @description Newest first */
            items: components["schemas"]["CredentialGenerationDto"][];
        };
        DeviceDto: {
            /** Format: uuid */
            id: string;
            name: string;
            model: string;
            /** @enum {string} */
            status: "pending" | "active" | "offline" | "disabled";
            /** Format: uuid */
            customerId: string | null;
            version: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
        };
        DevicePageDto: {
            items: components["schemas"]["DeviceDto"][];
            nextCursor: string | null;
        };
        TelemetryPointDto: {
            seq: number;
            /**
             * Format: date-time
             * @description Device time
             */
            ts: string;
            /**
             * Format: date-time
             * @description Receive time
             */
            receivedAt: string;
            metrics: {
                [key: string]: number;
            };
        };
        TelemetryBucketDto: {
            /** Format: date-time */
            start: string;
            metric: string;
            avg: number;
            min: number;
            max: number;
            count: number;
        };
        TelemetryPageDto: {
            points?: components["schemas"]["TelemetryPointDto"][];
            buckets?: components["schemas"]["TelemetryBucketDto"][];
            nextCursor: string | null;
        };
        UsageRecordDto: {
            /** Format: uuid */
            deviceId: string;
            /** Format: date-time */
            periodStart: string;
            metric: string;
            amount: number;
        };
        UsagePageDto: {
            items: components["schemas"]["UsageRecordDto"][];
            /** @description True when more records matched than were returned */
            truncated: boolean;
        };
        SagaStepDto: {
            step: string;
            /** @enum {string} */
            state: "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "COMPENSATING" | "COMPENSATED" | "COMPENSATION_FAILED" | "SKIPPED";
            attempts: number;
            compensationAttempts: number;
            /** @description The last attempt's error (code, kind, message) */
            error?: Record<string, never> | null;
            /**
             * Format: date-time
             * @description Since when its store has not answered (outcome unknown, retried); null once it answers
             */
            unknownSince: string | null;
            /**
             * Format: date-time
             * @description Until when an unanswered step is retried before the saga gives up on it and compensates
             */
            retryUntil: string | null;
            /**
             * Format: date-time
             * @description When the next attempt is due
             */
            nextAttemptAt: string | null;
        };
        SagaDto: {
            /** Format: uuid */
            id: string;
            name: string;
            version: number;
            /** @enum {string} */
            state: "PENDING" | "RUNNING" | "SUCCEEDED" | "COMPENSATING" | "COMPENSATED" | "FAILED" | "COMPENSATION_FAILED";
            tenant: string | null;
            /**
             * Format: uuid
             * @description The tenant's immutable id
             */
            tenantId: string | null;
            error?: Record<string, never> | null;
            /**
             * Format: date-time
             * @description After it the saga compensates; time spent waiting for a store that does not answer moves it
             */
            deadlineAt: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            steps: components["schemas"]["SagaStepDto"][];
            /** @description Device token, on the first read after a device registration that finished in the background */
            token?: string;
        };
        SagaListDto: {
            items: components["schemas"]["SagaDto"][];
        };
        CreatedApiKeyDto: {
            /** Format: uuid */
            id: string;
            name: string;
            /** @description First characters of the key, to recognise it */
            prefix: string;
            scopes: ("full" | "read-only" | "devices")[];
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            expiresAt: string | null;
            /**
             * Format: date-time
             * @description Recorded about once a minute
             */
            lastUsedAt: string | null;
            /**
             * Format: uuid
             * @description The key that replaced it by rotation
             */
            replacedBy: string | null;
            /** @description Shown once; store it now. Only its hash is kept. */
            apiKey: string;
        };
        ApiKeyDto: {
            /** Format: uuid */
            id: string;
            name: string;
            /** @description First characters of the key, to recognise it */
            prefix: string;
            scopes: ("full" | "read-only" | "devices")[];
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            expiresAt: string | null;
            /**
             * Format: date-time
             * @description Recorded about once a minute
             */
            lastUsedAt: string | null;
            /**
             * Format: uuid
             * @description The key that replaced it by rotation
             */
            replacedBy: string | null;
        };
        ApiKeyListDto: {
            items: components["schemas"]["ApiKeyDto"][];
        };
        QuotaUsageDto: {
            /** @description 0 = unlimited */
            limit: number;
            /**
             * @description tenant: this tenant's own; default: QUOTA_*
             * @enum {string}
             */
            source: "tenant" | "default";
            /** @description null: its store did not answer */
            used: number | null;
        };
        StorageUsageDto: {
            /** @description 0 = unlimited */
            limit: number;
            /**
             * @description tenant: this tenant's own; default: QUOTA_*
             * @enum {string}
             */
            source: "tenant" | "default";
            /** @description null: its store did not answer */
            used: number | null;
            /**
             * Format: date-time
             * @description When `used` was measured (at most QUOTA_STORAGE_REFRESH_MS ago while writes come in)
             */
            measuredAt: string | null;
            /** @description Bytes per store (null: not measured there, MongoDB) */
            byStore: {
                [key: string]: number | null;
            };
        };
        QuotasDto: {
            /** @description Registered devices (pending ones included) */
            devices: components["schemas"]["QuotaUsageDto"];
            customers: components["schemas"]["QuotaUsageDto"];
            /** @description Bytes of the tenant's data across its stores */
            storage: components["schemas"]["StorageUsageDto"];
        };
        /**
         * @example {
         *       "name": "Ada Lovelace",
         *       "email": "ada@example.com",
         *       "phone": "+44 20 7946 0000"
         *     }
         */
        CreateCustomerRequest: {
            name: string;
            /** Format: email */
            email: string;
            phone?: string | null;
        };
        SearchCustomersRequest: {
            /** Format: email */
            email: string;
        };
        /**
         * @example {
         *       "name": "Boiler room meter",
         *       "model": "EM-340"
         *     }
         */
        RegisterDeviceRequest: {
            name: string;
            model: string;
            /** Format: uuid */
            customerId?: string | null;
        };
        /**
         * @example {
         *       "slug": "acme",
         *       "name": "Acme Corp"
         *     }
         */
        CreateTenantRequest: {
            slug: string;
            name: string;
            /** @description Per store; stores not named get the default. */
            placements?: {
                /** @enum {string} */
                store: "secure" | "reliable" | "edge";
                /**
                 * @description schema: a schema of its own in the shared database (PostgreSQL); database: a database of its own on a shared server; dedicated: a server of its own (give `server`). Default: schema on PostgreSQL, database otherwise.
                 * @enum {string|null}
                 */
                kind?: "schema" | "database" | "dedicated" | null;
                /** @description The server (required for dedicated); a password in it is stored sealed. Default: the store's server. */
                server?: string | null;
            }[] | null;
        };
        RestoreTenantRequest: {
            /** @description Default: the slug it had (if still free) */
            slug?: string | null;
        };
        /**
         * @example {
         *       "name": "ci",
         *       "scopes": [
         *         "read-only"
         *       ]
         *     }
         */
        CreateApiKeyRequest: {
            name?: string | null;
            /** @description full: everything, API keys included; read-only: reads (GET, and searches); devices: the /v1/devices routes. Default: full. */
            scopes?: ("full" | "read-only" | "devices")[] | null;
            /**
             * Format: date-time
             * @description Refused from then on; in the future. Default: never.
             */
            expiresAt?: string;
        };
        RotateApiKeyRequest: {
            /** @description Default: 3600 */
            overlapSeconds?: number | null;
        };
        /**
         * @example {
         *       "devices": 1000,
         *       "customers": 50000,
         *       "storageBytes": 10737418240
         *     }
         */
        PutQuotasRequest: {
            /** @description Registered devices; 0 = unlimited; null = back to the deployment default (QUOTA_*); left out = unchanged */
            devices?: number | null;
            /** @description Customers; 0 = unlimited; null = back to the deployment default (QUOTA_*); left out = unchanged */
            customers?: number | null;
            /** @description Bytes of the tenant's data across its stores; 0 = unlimited; null = back to the deployment default (QUOTA_*); left out = unchanged */
            storageBytes?: number | null;
        };
        ErrorBody: {
            /** @description The HTTP status, repeated */
            statusCode: number;
            /** @description Stable and machine-readable: what happened */
            code: string;
            message: string;
            /** @description Also the x-request-id header: quote it to an operator */
            correlationId: string;
            /** @description 400: every problem, each naming its field */
            errors?: string[];
            sagaId?: string;
            quota?: {
                name: string;
                limit: number;
                used: number;
            };
        };
        DeviceReading: {
            /** @description The device's sequence number: a repeat of (device, seq) is stored once */
            seq: number;
            /** @description Device time: ISO 8601 or epoch milliseconds, at most 5 minutes ahead */
            ts: string | number;
            /** @description 1 to 100 metrics: name (1-64 characters of [A-Za-z0-9_.:-]) to value */
            metrics: {
                [key: string]: number;
            };
        };
        IngestAccepted: {
            accepted: number;
        };
        DeviceCredentials: {
            /** Format: uuid */
            deviceId: string;
            token: string;
            /** Format: date-time */
            expiresAt?: string;
            mqtt: {
                username: string;
                topic: string;
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Everything answers */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok" | "error" | "shutting_down";
                        info?: {
                            [key: string]: {
                                /** @enum {string} */
                                status: "up" | "down";
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        error?: {
                            [key: string]: {
                                /** @enum {string} */
                                status: "up" | "down";
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        details: {
                            [key: string]: {
                                /** @enum {string} */
                                status: "up" | "down";
                            } & {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
            /** @description What does not answer is `down` in `error` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok" | "error" | "shutting_down";
                        info?: {
                            [key: string]: {
                                /** @enum {string} */
                                status: "up" | "down";
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        error?: {
                            [key: string]: {
                                /** @enum {string} */
                                status: "up" | "down";
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        details: {
                            [key: string]: {
                                /** @enum {string} */
                                status: "up" | "down";
                            } & {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
    };
    listTenants: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TenantListDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    createTenant: {
        parameters: {
            query?: never;
            header?: {
                /** @description A retried request with the same key gets the outcome of the first one (kept 24 h); the same key with a different body is 409 IDEMPOTENCY_MISMATCH; the API key is shown only to the first answer */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateTenantRequest"];
            };
        };
        responses: {
            /** @description Databases exist and are migrated in every store */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedTenantDto"];
                };
            };
            /** @description Still provisioning: follow GET /admin/sagas, then POST /admin/tenants/:slug/api-keys */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProvisioningTenantDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_EXISTS, or IDEMPOTENCY_MISMATCH: the key was used with another body */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    deleteTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                slug: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; data kept, restorable, until purgeAfter */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeletedTenantDto"];
                };
            };
            /** @description Deleted and purged (no grace period configured) */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    restoreTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RestoreTenantRequest"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedTenantDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND: no deleted tenant with this id */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_EXISTS: the slug is taken; give another one */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    purgeTenant: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND: no deleted tenant with this id */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    createCustomer: {
        parameters: {
            query?: never;
            header?: {
                /** @description A retried request with the same key gets the outcome of the first one (kept 24 h); the same key with a different body is 409 IDEMPOTENCY_MISMATCH */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateCustomerRequest"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CustomerDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description IDEMPOTENCY_MISMATCH: the key was used with another body */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    searchCustomers: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SearchCustomersRequest"];
            };
        };
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CustomerListDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    getCustomer: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CustomerDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description CUSTOMER_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    eraseCustomer: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Erasure continues: follow GET /v1/sagas/{sagaId} */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErasureAcceptedDto"];
                };
            };
            /** @description Erased */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description CUSTOMER_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    listAuditEntries: {
        parameters: {
            query?: {
                /** @description Return records after this sequence number */
                afterSeq?: number;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPageDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    verifyAuditLog: {
        parameters: {
            query?: {
                /** @description `checkpoint`: from the latest signed checkpoint to the head (time bounded by what was appended since); `full`: from the first record (for auditors) */
                mode?: "checkpoint" | "full";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditVerdictDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    listDevices: {
        parameters: {
            query?: {
                status?: "pending" | "active" | "offline" | "disabled";
                limit?: number;
                /** @description nextCursor of the previous page */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DevicePageDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    registerDevice: {
        parameters: {
            query?: never;
            header?: {
                /** @description A retried request with the same key joins the same registration and gets its outcome: 201 (the token is shown only the first time), 202 while it runs, or its final error (409 OPERATION_ABANDONED when a store stayed unreachable past the saga window and the registration was undone) */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RegisterDeviceRequest"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RegisteredDeviceDto"];
                };
            };
            /** @description Still running: follow GET /v1/sagas/{sagaId} */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AcceptedDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description IDEMPOTENCY_MISMATCH: the key was used with another body; OPERATION_ABANDONED: a store stayed unreachable and the registration was undone (`sagaId`) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    listDeviceCredentials: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CredentialHistoryDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEVICE_NOT_FOUND: no credential of this device was ever recorded */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    rotateDeviceCredential: {
        parameters: {
            query?: never;
            header?: {
                /** @description A retried request with the same key joins the same rotation (one new generation): 201 (the token is shown only the first time), 202 while it runs, or its final error */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceCredentialDto"];
                };
            };
            /** @description Still running: follow GET /v1/sagas/{sagaId} */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AcceptedDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEVICE_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description IDEMPOTENCY_MISMATCH: the key was used for another device */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    getDevice: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEVICE_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    deleteDevice: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Still running: follow GET /v1/sagas/{sagaId} */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AcceptedDto"];
                };
            };
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEVICE_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    getDeviceTelemetry: {
        parameters: {
            query: {
                /** @description Inclusive start (device time) */
                from: string;
                /** @description Exclusive end */
                to: string;
                /** @description Aggregate per bucket (avg, min, max, count per metric) */
                bucket?: "1m" | "1h";
                limit?: number;
                /** @description nextCursor of the previous page (raw points only) */
                cursor?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TelemetryPageDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEVICE_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    queryUsage: {
        parameters: {
            query: {
                /** @description Inclusive start */
                from: string;
                /** @description Exclusive end */
                to: string;
                deviceId?: string;
                metric?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UsagePageDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    getSaga: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SagaDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SAGA_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    listSagas: {
        parameters: {
            query?: {
                state?: "PENDING" | "RUNNING" | "SUCCEEDED" | "COMPENSATING" | "COMPENSATED" | "FAILED" | "COMPENSATION_FAILED";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SagaListDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    adminGetSaga: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SagaDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SAGA_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    retrySaga: {
        parameters: {
            query?: never;
            header?: {
                /** @description A repeat with the same key, saga and action acts once and answers 200 with the saga as it is now (kept IDEMPOTENCY_TTL_MS, 24 h); the key used for another saga or action is 409 IDEMPOTENCY_MISMATCH */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Runs the failed compensations (or failed forward steps) again */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SagaDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SAGA_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SAGA_NOT_PARKED, or IDEMPOTENCY_MISMATCH: the key was used for another saga or action */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    skipSaga: {
        parameters: {
            query?: never;
            header?: {
                /** @description A repeat with the same key, saga and action acts once and answers 200 with the saga as it is now (kept IDEMPOTENCY_TTL_MS, 24 h); the key used for another saga or action is 409 IDEMPOTENCY_MISMATCH */
                "Idempotency-Key"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Gives up on what failed and closes the saga */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SagaDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SAGA_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SAGA_NOT_PARKED, or IDEMPOTENCY_MISMATCH: the key was used for another saga or action */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    listApiKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Keys not revoked (expired ones included); never secrets */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyListDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    createApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateApiKeyRequest"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedApiKeyDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    revokeApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description API_KEY_NOT_FOUND: no live key with this id in this tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    rotateApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RotateApiKeyRequest"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedApiKeyDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description API_KEY_NOT_FOUND: unknown, revoked, expired or already rotated */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    adminListApiKeys: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                slug: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyListDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    adminCreateApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                slug: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateApiKeyRequest"];
            };
        };
        responses: {
            /** @description A new key for the tenant, shown once */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedApiKeyDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    adminRevokeApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                slug: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Revoked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND, API_KEY_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    adminRotateApiKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                slug: string;
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RotateApiKeyRequest"];
            };
        };
        responses: {
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedApiKeyDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND, API_KEY_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    getQuotas: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QuotasDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: no key, a wrong, expired or revoked key, or an unknown tenant (one answer for all) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SCOPE_DENIED: the API key's scopes do not cover this route */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description KEY_RATE_LIMITED, TENANT_RATE_LIMITED, TOO_MANY_AUTH_FAILURES or QUOTA_EXCEEDED (`quota`); wait `Retry-After` seconds when it is given */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    adminGetQuotas: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                slug: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QuotasDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    adminPutQuotas: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                slug: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PutQuotasRequest"];
            };
        };
        responses: {
            /** @description The quotas as they apply now, with the usage */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QuotasDto"];
                };
            };
            /** @description VALIDATION_FAILED (each problem in `errors`), MALFORMED_JSON, WRONG_HOST (admin routes are on the base domain) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNAUTHENTICATED: the admin token is required */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TENANT_NOT_FOUND */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over the limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description TOO_MANY_AUTH_FAILURES from this address; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: a store (or the catalog) cannot be reached; retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEADLINE_EXCEEDED: a store did not answer in time; the outcome is unknown (retry with the same Idempotency-Key) */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    ingestReadings: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DeviceReading"] | components["schemas"]["DeviceReading"][];
            };
        };
        responses: {
            /** @description On the telemetry stream (on disk); a repeated (device, seq) is stored once */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IngestAccepted"];
                };
            };
            /** @description INVALID_READINGS: nothing stored; `errors` names each refused reading by its index */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEVICE_UNAUTHENTICATED: no credential, or a wrong, expired or revoked one */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over INGEST_BODY_LIMIT_BYTES */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description DEVICE_RATE_LIMITED (over DEVICE_RATE_LIMIT_PER_S) or INGEST_BUSY; wait `Retry-After` seconds */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description BROKER_UNAVAILABLE (or the tenant database, without a broker); retry after `Retry-After` */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
    renewDeviceCredential: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceCredentials"];
                };
            };
            /** @description DEVICE_UNAUTHENTICATED: no credential, or a wrong, expired or revoked one */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description PAYLOAD_TOO_LARGE: the body is over INGEST_BODY_LIMIT_BYTES */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description UNSUPPORTED_MEDIA_TYPE: the body must be application/json */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description INTERNAL: logged with the correlation id; the body tells nothing more */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
            /** @description SERVICE_UNAVAILABLE: the tenant database cannot be reached */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorBody"];
                };
            };
        };
    };
}
