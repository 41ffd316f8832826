/**
 * `outbox-relay/routeros`: the MikroTik RouterOS publisher, its device registry and
 * credentials cipher. A separate entry so apps without routers never load node-routeros.
 */
export { ROUTEROS_ACTIONS, type RouterOsActionName } from './actions/action-catalog.js';
export type {
  ActionContext,
  ActionResult,
  RosCommandRunner,
  RouterOsAction,
  SuspendMode,
} from './actions/routeros-action.js';
export {
  CredentialsCipher,
  type CredentialsCipherOptions,
  CredentialsError,
  credentialsKeyId,
  parseCredentialsKey,
} from './credentials-cipher.js';
export {
  type DeviceConfig,
  type DeviceTlsOptions,
  ROUTEROS_API_PORT,
  ROUTEROS_API_SSL_PORT,
  routerOsPort,
} from './device-config.js';
export {
  type DeviceInfo,
  type DevicePatch,
  DeviceRegistry,
  type DeviceRegistryOptions,
  type NewDevice,
} from './device-registry.js';
export type { DeviceResolver } from './device-resolver.js';
export { installEmptyReplyPatch } from './empty-reply-patch.js';
export { type RosErrorCode, RosLoginError, RosTransportError, RosTrapError } from './ros-errors.js';
export {
  DEFAULT_MAX_CONNECTIONS,
  RouterOsPublisher,
  type RouterOsPublisherOptions,
} from './routeros-publisher.js';
export { StaticDeviceResolver } from './static-device-resolver.js';
export {
  DEFAULT_DEVICE_CACHE_TTL_MS,
  TableDeviceResolver,
  type TableDeviceResolverOptions,
} from './table-device-resolver.js';
export { classifyTrap, type TrapKind } from './trap-classifier.js';
