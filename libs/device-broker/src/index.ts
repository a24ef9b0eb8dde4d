export { NKey, type NKeyRole } from './nkey.js';
export { decodeJwt, signJwt, verifyJwt, type JwtClaims } from './jwt.js';
export { BrokerKeys } from './broker-keys.js';
export {
  credsFile,
  devicesAccountJwt,
  operatorJwt,
  systemAccountJwt,
  userJwt,
  type UserPermissions,
} from './claims.js';
export {
  DeviceCredentialIssuer,
  parseTelemetrySubject,
  telemetrySubject,
  telemetryTopic,
  type DeviceClaims,
} from './device-credentials.js';
export { brokerServerConfig, type BrokerServerOptions } from './server-config.js';
