/** The legacy ticket bridges' public surface: the bridge, its registry, login and credentials. */
export { createLegacyBridge, type LegacyBridge, type LegacyBridgeOptions } from './bridge.ts';
export { revokeLegacyTokensForAccount, revokeLegacyTokensForSession, type LegacyGrant } from './credentials.ts';
export { bridgeClientId, legacyBridgeClients, legacyReturnPath, LegacyLoginCode } from './login.ts';
export { legacyServiceOf, legacyTimeWindowMs } from './protocol.ts';
export {
  configuredLegacySystemsProblems, createLegacyRegistry, legacyProvinces, LegacyRegistryCode, LegacyRegistryError, legacyScopes,
  legacySystemProblems, type LegacyProvince, type LegacyRegistry, type LegacyScope, type LegacySystem, type LegacySystemView,
} from './registry.ts';
