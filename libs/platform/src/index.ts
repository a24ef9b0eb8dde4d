export { CodedError, ErrorKind, isCodedError, isErrorKind } from './errors/coded-error.js';
export { QUOTA_EXCEEDED, QUOTA_NAMES, quotaExceeded, type QuotaName } from './errors/quota-exceeded.js';
export {
  ConfigError,
  base64KeyVar,
  boolVar,
  intVar,
  loadConfig,
  logLevelVar,
  masterKeyringVar,
  nodeEnvVar,
  portVar,
  urlVar,
  withSecretFiles,
} from './config/env.util.js';
export { HostListUrl } from './config/host-list-url.js';
export { createRootLogger, type LoggerSettings } from './logging/logger.factory.js';
export { createMetricsRegistry } from './metrics/metrics.registry.js';
export { METRICS_REGISTRY, MetricsModule } from './metrics/metrics.module.js';
export {
  AeadError,
  constantTimeEqual,
  deriveKey,
  hmacSha256,
  secretKeyOf,
  open,
  randomKey,
  seal,
  sha256,
} from './crypto/aead.util.js';
export { CrashPoints } from './testing/crash-points.js';
export { TENANT_SLUG_PATTERN, TENANT_SLUG_RULE } from './tenant-slug.rule.js';
export {
  MAX_MASTER_KEY_VERSION,
  MasterKeyring,
  MasterKeyringError,
  type MasterKeyVersion,
} from './crypto/master-keyring.util.js';
