/**
 * Every extension of the provider that its configuration alone does not hold, in one place and in
 * order. Two kinds:
 *
 * - configuration-time: the `Client` model's adapter (member apps from the store, then the
 *   resource servers' own clients) and dynamic registration (`features.registration`), both read
 *   by `createProvider` (provider.ts);
 * - post-construction, once the provider exists: `installProviderExtensions`, which `createBroker`
 *   calls right after the security headers.
 */
import type Provider from 'oidc-provider';
import type { AdapterFactory, Configuration } from 'oidc-provider';
import { installMembers, registrationFeatures, withMemberApps, type MemberRegistry } from '../members/index.ts';
import type { Logger } from '../platform/log.ts';
import { withServiceClientsOf, type ResourceServers } from '../resources/index.ts';

type Features = NonNullable<Configuration['features']>;

/** `adapter`: the `Client` model answers the member apps, then the resource servers' own clients, then `base`. */
export function clientAdapter(base: AdapterFactory, members: MemberRegistry | undefined, resources: ResourceServers | undefined): AdapterFactory {
  return withServiceClientsOf(resources, members ? withMemberApps(base, members) : base);
}

/** `features.registration` and `features.registrationManagement`: on only with a member registry. */
export function registrationOf(members: MemberRegistry | undefined): Partial<Pick<Features, 'registration' | 'registrationManagement'>> {
  return members ? registrationFeatures(members) : {};
}

export interface ProviderExtensions {
  readonly members: MemberRegistry;
  readonly resources: ResourceServers;
  readonly logger: Logger;
}

/**
 * The post-construction extensions, in this order:
 * 1. members (broker/members/oidc.ts): member apps' secret check, the suspended-app page, RFC 7592
 *    answers without hashes, the admin API under /admin;
 * 2. resources (broker/resources): the token-exchange grant and the services' secret check, which
 *    wraps the apps' one, so it comes after it.
 */
export function installProviderExtensions(provider: Provider, { members, resources, logger }: ProviderExtensions): void {
  installMembers(provider, { service: members, logger });
  resources.install(provider);
}
