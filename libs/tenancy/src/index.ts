export { TenancyErrorCode, TenancyException } from './tenancy.exception.js';
export { TENANT_SLUG_PATTERN, isTenantSlug, parseTenantSlug, type TenantSlug } from './tenant-slug.js';
export { parseHost, type HostTarget } from './host.util.js';
export {
  DEFAULT_DEADLINE_MS,
  RequestContextStore,
  contextLogFields,
  newRequestContext,
  runAsTenant,
  type RequestContext,
} from './request-context.js';
export {
  ContextHeader,
  readContextHeaders,
  writeContextHeaders,
  type HeaderBag,
  type ReceivedContext,
} from './context-headers.js';
