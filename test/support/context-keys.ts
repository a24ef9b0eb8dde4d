import { ContextSigner, ContextVerifier, derivedStoreContextKey } from '#polystore/messaging';

/** The seed every test stack's gateway (and CLI) signs request contexts with. Never used outside tests. */
export const TEST_CONTEXT_SEED = Buffer.alloc(32, 9);

/** The signer of {@link TEST_CONTEXT_SEED}: what a test talking to a stack's stores directly uses. */
export const testContextSigner = ContextSigner.derived(TEST_CONTEXT_SEED);

/** The public key test stores accept (CONTEXT_VERIFY_KEYS). */
export const TEST_CONTEXT_PUBLIC_KEY = testContextSigner.publicKey;

/** The X25519 key of a test store service (its CONTEXT_STORE_KEY), derived from the test seed. */
export function testStoreContextKey(service: string): string {
  return derivedStoreContextKey(TEST_CONTEXT_SEED, service).privateKey;
}

/** A verifier of the test key for `service`, for stores a test starts in its own process. */
export function testContextVerifier(service: string): ContextVerifier {
  return new ContextVerifier(service, [TEST_CONTEXT_PUBLIC_KEY], [testStoreContextKey(service)]);
}

/** CONTEXT_STORE_KEYS of a test gateway: every store service's public key. */
export const TEST_CONTEXT_STORE_KEYS = ['secure-store', 'reliable-store', 'edge-store']
  .map((service) => `${service}=${derivedStoreContextKey(TEST_CONTEXT_SEED, service).publicKey}`)
  .join(',');
