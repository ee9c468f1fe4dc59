/**
 * The province adapter contract. An adapter turns the canonical identity into one provincial
 * dialect: pure functions over `broker/identity/model.ts`, no upstream tokens, no secrets, no I/O.
 */
import type { AssuranceLevel } from '../broker/identity/assurance.ts';
import type { CanonicalIdentity, LegalPerson } from '../broker/identity/model.ts';
import type { ClaimValue } from './claim-value.ts';
import type { LegacyProtocol } from './legacy.ts';
import type { ReleaseScope } from './scopes.ts';

export type { ClaimValue } from './claim-value.ts';

/** A keyed one-way hash the broker computes with its deployment secret. */
export type DeriveId = (sector: string, value: string) => string;

/** Everything a release may depend on. */
export interface ReleaseContext {
  readonly identity: CanonicalIdentity;
  /** The organisation the person chose to act for in this session, if any. */
  readonly acting?: LegalPerson;
  /** Scopes granted to the client (the broker has already applied entitlement and consent). */
  readonly scopes: ReadonlySet<string>;
  /** The person's provincial user id, from `ProvinceAdapter.accountId`. */
  readonly accountId: string;
}

/** A value on a province's own assurance scale. */
export type ProvinceLevel = string | number;

export interface ProvinceAdapter {
  /** Short stable name, e.g. `zhejiang`. */
  readonly id: string;
  /** GB/T 2260 code of the province, e.g. `330000`. */
  readonly provinceCode: string;
  /** e.g. `浙江`. */
  readonly name: string;
  /** e.g. `浙里办 / 浙江政务服务网`. */
  readonly platform: string;
  /** Pairwise subject sector: all apps of the province share it. */
  readonly sector: string;
  /** Dialect claim names the adapter may emit, per scope (discovery, consent, the contract test). */
  readonly claimsByScope: Readonly<Record<ReleaseScope, readonly string[]>>;
  /** The province's scale, lowest first; `assurance` answers with one of these. */
  readonly assuranceScale: readonly ProvinceLevel[];
  /** Dialect claims released for the granted scopes. Pure. */
  claims(context: ReleaseContext): Record<string, ClaimValue>;
  /** The province's level for a broker level. */
  assurance(level: AssuranceLevel): ProvinceLevel;
  /** Stable provincial user id of the person: `derive(sector, nationalSubject)`, never from an ID number. */
  accountId(identity: CanonicalIdentity, derive: DeriveId): string;
  /** The province's old ticket API, when it keeps one (adapters/legacy.ts). */
  readonly legacy?: LegacyProtocol;
}
