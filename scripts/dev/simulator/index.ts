/**
 * The national-platform simulator: a real OpenID Provider (oidc-provider) standing in for
 * 国家政务服务平台 统一身份认证 in tests and the demo. Its interface, people, levels and
 * misbehaviours are documented in scripts/dev/simulator/README.md.
 */
export { createNationalSimulator } from './simulator.ts';
export {
  defaultBrokerBackchannelLogoutUri, defaultBrokerClient, defaultBrokerClientId, defaultBrokerClientSecret,
  defaultBrokerPostLogoutRedirectUri, defaultBrokerRedirectUri, defaultSimulatorPort, nationalScopeClaims, nationalScopes,
} from './contract.ts';
export type { BackchannelDelivery, MisbehaveOptions, NationalSession, NationalSimulator, NationalSimulatorOptions, SimulatorClient } from './contract.ts';
export { requestedLevel } from './levels.ts';
export { demoAccounts, demoCompanies, demoPassword, type DemoAccount, type DemoCompany } from './accounts.ts';
export { misbehaviours, type Misbehaviour } from './misbehaviour.ts';
