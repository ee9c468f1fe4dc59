/**
 * What every route and step of the login flow is given: the provider, the national connector, the
 * store, accounts and legal persons, and the facts of one login in progress at the national platform.
 */
import type Provider from 'oidc-provider';
import type { AccountStore } from '../accounts/records.ts';
import type { AssuranceLevel } from '../identity/assurance.ts';
import type { Derive } from '../identity/subjects.ts';
import type { LegalPersons } from '../legal-person/index.ts';
import type { NationalPlatform } from '../national/upstream.ts';
import type { Logger } from '../platform/log.ts';
import type { Store } from '../platform/storage/types.ts';
import { routes } from '../../config/defaults.ts';
import type { RateLimiters } from '../platform/rate-limit/index.ts';
import type { ConsentRecords } from '../release/consent-records.ts';

export interface InteractionOptions {
  readonly provider: Provider;
  readonly national: NationalPlatform;
  readonly store: Store;
  readonly accounts: AccountStore;
  readonly derive: Derive;
  readonly logger: Logger;
  readonly issuer: string;
  readonly sessionTtlSeconds: number;
  readonly interactionTtlSeconds: number;
  /** Company logins: keeps the national login for the company choice (docs/legal-persons.md). */
  readonly legalPersons?: LegalPersons;
  /** The name of a member city (the consent page names the app's city). */
  readonly cityName?: (code: string) => Promise<string | undefined>;
  /** Prefix of the broker's cookie names (the signed-out marker, broker/logout/signed-out.ts); default `tongban`. */
  readonly cookiePrefix?: string;
  /** Rate limits (per person: logins of one national subject). */
  readonly rateLimits?: RateLimiters;
  /** The person's answers on sensitive items per app, kept across sessions. */
  readonly consents?: ConsentRecords;
}

/** A login sent to the national platform, kept under its `state` until the browser comes back. */
export interface PendingUpstream {
  readonly uid: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly level?: AssuranceLevel;
  /** Epoch seconds of a sign-out in this browser: the national authentication must be newer. */
  readonly signedOutAt?: number;
}

export const pendingKey = (state: string) => `upstream:${state}`;

/**
 * The cookie that binds a national return to the browser that started it: set with the redirect to
 * the national platform, scoped to the callback path, holding the `state` (signed). One per login
 * in progress (the name carries the start of the state), so two tabs never disturb each other.
 */
export const nationalBindingCookie = (cookiePrefix: string, state: string) => `${cookiePrefix}_national_${state.slice(0, 12)}`;

/** The registered redirect URI at the national platform (fixed: the interaction cookie cannot reach it). */
export const callbackPath = routes.nationalCallback;
