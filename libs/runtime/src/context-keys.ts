import { ContextSigner, ContextVerifier, contextPublicKeyOf, derivedStoreContextKey } from '#polystore/messaging';
import { resolveContextSigningKey } from './common-config.js';

interface ContextKeyConfig {
  readonly NODE_ENV: string;
  readonly DEV_SECRETS_FILE: string;
  readonly CONTEXT_SIGNING_KEY?: Buffer;
  readonly CONTEXT_STORE_KEYS?: Record<string, string>;
  readonly CONTEXT_VERIFY_KEYS?: string[];
  readonly CONTEXT_STORE_KEY?: string[];
}

/**
 * The signer of a sender (the gateway, the CLI): CONTEXT_SIGNING_KEY and CONTEXT_STORE_KEYS, or
 * outside production the development seed with store keys derived from it.
 */
export function contextSignerFor(config: ContextKeyConfig): ContextSigner {
  const seed = resolveContextSigningKey(config);
  const storeKeys = config.CONTEXT_STORE_KEYS;
  if (storeKeys) return new ContextSigner(seed, (service) => storeKeys[service]);
  if (config.NODE_ENV === 'production') throw new Error('CONTEXT_STORE_KEYS is required in production');
  return ContextSigner.derived(seed);
}

/**
 * The verifier of store `service`: CONTEXT_VERIFY_KEYS and CONTEXT_STORE_KEY, or outside
 * production the development ones (the development seed's public key, the store key derived
 * from it). A store never holds the signing seed in production.
 */
export function contextVerifierFor(service: string, config: ContextKeyConfig): ContextVerifier {
  const production = config.NODE_ENV === 'production';
  if (production && !config.CONTEXT_VERIFY_KEYS) throw new Error('CONTEXT_VERIFY_KEYS is required in production');
  if (production && !config.CONTEXT_STORE_KEY) throw new Error('CONTEXT_STORE_KEY is required in production');
  const devSeed = () => resolveContextSigningKey({ ...config, CONTEXT_SIGNING_KEY: undefined });
  return new ContextVerifier(
    service,
    config.CONTEXT_VERIFY_KEYS ?? [contextPublicKeyOf(devSeed())],
    config.CONTEXT_STORE_KEY ?? [derivedStoreContextKey(devSeed(), service).privateKey],
  );
}
