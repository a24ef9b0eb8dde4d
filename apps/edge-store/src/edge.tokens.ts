/** Injection token of the {@link BrokerAccess} implementation. */
export const BROKER_ACCESS = Symbol('BROKER_ACCESS');

/** Injection token of the edge store's configuration. */
export const EDGE_CONFIG = Symbol('EDGE_CONFIG');

/** Injection token of the master key. */
export const MASTER_KEY = Symbol('MASTER_KEY');
