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
  type DeviceInfo,
  type DevicePatch,
  DeviceRegistry,
  type DeviceRegistryOptions,
  type NewDevice,
  ROUTEROS_API_PORT,
  ROUTEROS_API_SSL_PORT,
} from './device-registry.js';
export {
  type DeviceConfig,
  type DeviceResolver,
  type DeviceTlsOptions,
  StaticDeviceResolver,
  TableDeviceResolver,
  type TableDeviceResolverOptions,
} from './device-resolver.js';
export { installEmptyReplyPatch } from './empty-reply-patch.js';
export { RosLoginError, RosTransportError, RosTrapError } from './ros-connection.js';
export {
  DEFAULT_MAX_CONNECTIONS,
  RouterOsPublisher,
  type RouterOsPublisherOptions,
} from './routeros-publisher.js';
export { classifyTrap, type TrapKind } from './trap-classifier.js';
