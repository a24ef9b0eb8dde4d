/** Injection token of the master key (Buffer, 32 bytes). */
export const MASTER_KEY = Symbol('MASTER_KEY');

/** Injection token of this process's instance id. */
export const INSTANCE_ID = Symbol('INSTANCE_ID');
