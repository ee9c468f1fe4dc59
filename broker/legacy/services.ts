/** What each province's legacy routes are given by `createLegacyBridge`. */
import type { Logger } from '../platform/log.ts';
import type { Store } from '../platform/storage/types.ts';
import type { LegacyCompanies } from './companies.ts';
import type { LegacyCredentials } from './credentials.ts';
import type { LegacyLogin } from './login.ts';
import type { LegacyRegistry } from './registry.ts';
import type { LegacyRelease } from '../release/legacy.ts';

export interface LegacyServices {
  readonly registry: LegacyRegistry;
  readonly credentials: LegacyCredentials;
  readonly release: LegacyRelease;
  readonly login: LegacyLogin;
  readonly logger: Logger;
  /** Company logins: the mandate check (absent: a company ticket is never redeemed). */
  readonly companies?: LegacyCompanies;
  /** The shared store: the replay cache of signed calls. */
  readonly store: Store;
  /** Epoch milliseconds. */
  readonly now: () => number;
}
