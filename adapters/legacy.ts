/**
 * The legacy-protocol contract: what a province folder implements to serve its old ticket API
 * (routes, parameter parsing, signing, answer shapes), and what the broker's province-neutral core
 * (broker/legacy/) gives it in return. Pure: no broker code, no I/O of its own.
 */
import type { ClaimValue } from './claim-value.ts';

/** A service code (Zhejiang `servicecode`, Jiangsu `app_id`) as a system may send it. */
export const legacyServiceCodePattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** A lower-case hex MD5 digest as a client may send it (either case). */
export const md5HexPattern = /^[0-9a-fA-F]{32}$/;

/** A return address a system passes (`goto`, `redirectUrl`, `return_url`): bounded printable text. */
export function isReturnAddress(value: string): boolean {
  return value.length <= 2048 && !/\p{Cc}/u.test(value);
}

/** The parameters of one call, from the query and (POST) a form body; each given once. */
export type LegacyParams = ReadonlyMap<string, string>;

/** What a legacy call came to: `result` names an entry of the province's result table. */
export interface LegacyOutcome {
  readonly result: string;
  /** Why, for the log only: never a parameter value. */
  readonly reason?: string;
  /** The registered system that called, once known. */
  readonly service?: string;
}

/** A call that threw: store trouble is `unavailable`, anything else `internal`. */
export interface LegacyFailure extends LegacyOutcome {
  readonly result: 'unavailable' | 'internal';
}

/** The province's answer to an outcome: its result code (also logged), the method for the log, the JSON body. */
export interface LegacyResponse {
  readonly code: string;
  readonly method?: string;
  readonly body: Record<string, unknown>;
}

/** A redeemed ticket or a live token: the person's dialect claims for the calling system. */
export interface LegacyRedemption {
  readonly claims: Readonly<Record<string, ClaimValue>>;
  /** Issues a token for later calls (Zhejiang `getUserInfo`) on the same grant. */
  issueToken(): Promise<string>;
}

/** A registered, active system, as the core found it for a call. */
export interface LegacyCaller {
  readonly serviceCode: string;
  /** Server-side only: signs and verifies the system's calls. */
  readonly servicePassword: string;
  /** Redeems a one-time ticket issued to this system; undefined when unknown, used or expired. */
  redeemTicket(ticket: string): Promise<LegacyRedemption | undefined>;
  /** Finds a live token issued to this system; undefined when unknown or expired. */
  findToken(token: string): Promise<LegacyRedemption | undefined>;
}

/** What the broker's core gives a protocol while it answers a call. */
export interface LegacyBridgeApi {
  /** The registered system with this service code, unless unknown or suspended. */
  caller(serviceCode: string): Promise<LegacyCaller | undefined>;
  /** Whether a ticket or token has the shape the broker issues. */
  isCredential(value: string): boolean;
  /** Compares an expected hex digest with a given one in constant time. */
  signatureMatches(expectedHex: string, givenHex: string): boolean;
  /** Whether a signed time (epoch milliseconds) is within the accepted window of the broker's clock. */
  withinWindow(epochMs: number): boolean;
  /**
   * Claims a signed call's (service code, time, sign) for the time window, once across every node:
   * false when it was used before (a replay). Call it after the sign and the window are checked.
   */
  firstUse(serviceCode: string, time: string, sign: string): Promise<boolean>;
}

/** A login entry read: the system and the return address it passes, or why the entry is malformed. */
export type LegacyLoginEntry = { readonly serviceCode: string; readonly returnAddress?: string } | { readonly malformed: string };

export interface LegacyProtocol {
  /** The login entry (GET): the broker login, then a one-time ticket to the system's registered callback. */
  readonly loginPath: string;
  /** The API (GET and POST) systems call with a ticket or token. */
  readonly apiPath: string;
  /** The parameter naming the system, for the log (`servicecode`, `app_id`). */
  readonly serviceCodeParam: string;
  /** Where the login entry sends the ticket, and the parameter echoing the system's return address. */
  readonly ticketParams: readonly string[];
  readonly returnParam: string;
  parseLogin(params: LegacyParams): LegacyLoginEntry;
  /** Answers one API call (the core has refused HEAD and malformed parameters as `malformed`). */
  call(params: LegacyParams, bridge: LegacyBridgeApi): Promise<LegacyOutcome>;
  /** The province's answer for an outcome, failures (`unavailable`, `internal`, `malformed`) included. */
  respond(outcome: LegacyOutcome): LegacyResponse;
}
