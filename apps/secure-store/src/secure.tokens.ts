/** Injection token of the master key's versions (`MasterKeyring`). */
export const MASTER_KEYRING = Symbol('MASTER_KEYRING');

/** Injection token of this process's instance id. */
export const INSTANCE_ID = Symbol('INSTANCE_ID');

/** Injection token of the audit checkpoint settings (`AuditCheckpointOptions`). */
export const AUDIT_CHECKPOINT_OPTIONS = Symbol('AUDIT_CHECKPOINT_OPTIONS');
