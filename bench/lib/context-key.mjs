// The request-context keys of benchmark stacks: fixed (benchmarks are not production), so every
// process of a run agrees. The gateway signs and the stores check, as in production. One X25519
// key serves every store service here (the benchmarks hand all apps one environment); each
// ticket still names its service and a store refuses another's, so the work per message is the
// production one.
import { ContextSigner, contextPublicKeyOf, newStoreContextKey } from '#polystore/messaging';

const seed = Buffer.alloc(32, 11);
const storeKey = newStoreContextKey(Buffer.alloc(32, 12));
const SERVICES = ['secure-store', 'reliable-store', 'edge-store'];

/** Signs what a benchmark sends to the stores directly (MessageClient `signer`). */
export const contextSigner = new ContextSigner(seed, () => storeKey.publicKey);

/** The variables every app of a benchmark stack gets. */
export const contextEnv = {
  CONTEXT_SIGNING_KEY: seed.toString('base64'),
  CONTEXT_STORE_KEYS: SERVICES.map((service) => `${service}=${storeKey.publicKey}`).join(','),
  CONTEXT_VERIFY_KEYS: contextPublicKeyOf(seed),
  CONTEXT_STORE_KEY: storeKey.privateKey,
};

/** The X25519 private key of the bench stores (one for all, see above). */
export const benchStoreKey = storeKey.privateKey;
