/**
 * Tickets and tokens of the legacy bridges. A ticket is one-time and short-lived, bound to the
 * system it was issued for; a token (Zhejiang `getUserInfo`) is short-lived and bound to the
 * system that redeemed the ticket. Both are random values kept in the store only as SHA-256
 * hashes, and both are indexed by broker account and session, so ending a session can end them.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../platform/storage/types.ts';
import type { LegacyProvince } from './registry.ts';

/** What a ticket or token stands for: one broker login, for one system. */
export interface LegacyGrant {
  readonly province: LegacyProvince;
  readonly serviceCode: string;
  /** The broker account (keyed hash of the national subject). */
  readonly accountId: string;
  /** The broker session the login belongs to. */
  readonly sessionUid: string;
  /** Scopes granted in the broker login, space-separated. */
  readonly scope: string;
  /** `acr` of the broker login: the level the system is told, whatever the person reached since elsewhere. */
  readonly acr?: string;
  /** A company login (a system with `legal_person`): the company its authorization acts for, confirmed again at each use. */
  readonly creditCode?: string;
}

interface StoredGrant extends LegacyGrant {
  /** Epoch milliseconds; also enforced by the store's TTL. */
  readonly expiresAt: number;
}

type Kind = 'ticket' | 'token';

/** Tickets, tokens and the values a client might send for them: URL-safe base64, bounded. */
export const legacyCredentialPattern = /^[A-Za-z0-9_-]{16,128}$/;

const digest = (value: string) => createHash('sha256').update(value).digest('base64url');
const recordKey = (kind: Kind, hash: string) => `legacy:${kind}:${hash}`;
const accountIndex = (accountId: string) => `legacy:by-account:${accountId}`;
const sessionIndex = (sessionUid: string) => `legacy:by-session:${sessionUid}`;

export interface LegacyCredentialsOptions {
  readonly ticketTtlSeconds: number;
  readonly tokenTtlSeconds: number;
  readonly now?: () => number;
}

export interface LegacyCredentials {
  issueTicket(grant: LegacyGrant): Promise<string>;
  /**
   * The grant of a ticket presented by a system, once: a second presentation, an expired ticket or
   * one issued to another system gives undefined. Another system's attempt does not use it up.
   */
  redeemTicket(ticket: string, province: LegacyProvince, serviceCode: string): Promise<LegacyGrant | undefined>;
  issueToken(grant: LegacyGrant): Promise<string>;
  /** The grant of a token presented by a system; undefined when unknown, expired or another system's. */
  findToken(token: string, province: LegacyProvince, serviceCode: string): Promise<LegacyGrant | undefined>;
}

export function createLegacyCredentials(store: Store, options: LegacyCredentialsOptions): LegacyCredentials {
  const now = options.now ?? Date.now;

  async function issue(kind: Kind, grant: LegacyGrant, ttlSeconds: number): Promise<string> {
    const value = randomBytes(32).toString('base64url');
    const hash = digest(value);
    const ttlMs = ttlSeconds * 1000;
    const record: StoredGrant = { ...grant, expiresAt: now() + ttlMs };
    // Indexes first: a revocation running meanwhile must already find the new value.
    await Promise.all([
      store.addToSet(accountIndex(grant.accountId), `${kind}:${hash}`, ttlMs),
      store.addToSet(sessionIndex(grant.sessionUid), `${kind}:${hash}`, ttlMs),
    ]);
    await store.set(recordKey(kind, hash), record, ttlMs);
    return value;
  }

  async function find(kind: Kind, value: string, province: LegacyProvince, serviceCode: string): Promise<{ hash: string; grant: LegacyGrant } | undefined> {
    if (!legacyCredentialPattern.test(value)) return undefined;
    const hash = digest(value);
    const record = await store.get<StoredGrant>(recordKey(kind, hash));
    if (!record || record.expiresAt <= now() || record.province !== province || record.serviceCode !== serviceCode) return undefined;
    const { expiresAt: _expiresAt, ...grant } = record;
    return { hash, grant };
  }

  return {
    issueTicket: (grant) => issue('ticket', grant, options.ticketTtlSeconds),
    issueToken: (grant) => issue('token', grant, options.tokenTtlSeconds),
    async redeemTicket(ticket, province, serviceCode) {
      const found = await find('ticket', ticket, province, serviceCode);
      if (!found) return undefined;
      // One-time across every node sharing the store: exactly one caller wins the claim.
      if (!(await store.claim(`legacy:ticket-used:${found.hash}`, options.ticketTtlSeconds * 1000))) return undefined;
      await store.delete(recordKey('ticket', found.hash));
      return found.grant;
    },
    async findToken(token, province, serviceCode) {
      return (await find('token', token, province, serviceCode))?.grant;
    },
  };
}

async function revokeIndex(store: Store, index: string): Promise<number> {
  const members = await store.members(index);
  let revoked = 0;
  await Promise.all(members.map(async (member) => {
    const i = member.indexOf(':');
    if (await store.delete(recordKey(member.slice(0, i) as Kind, member.slice(i + 1)))) revoked += 1;
    await store.removeFromSet(index, member);
  }));
  return revoked;
}

/**
 * Ends every legacy ticket and token issued for a broker account (e.g. on single logout or a
 * national back-channel logout). Returns how many were still alive.
 *
 * @example
 * await revokeLegacyTokensForAccount(broker.store, accountId);
 */
export function revokeLegacyTokensForAccount(store: Store, accountId: string): Promise<number> {
  return revokeIndex(store, accountIndex(accountId));
}

/** Ends every legacy ticket and token issued from one broker session (its `uid`). */
export function revokeLegacyTokensForSession(store: Store, sessionUid: string): Promise<number> {
  return revokeIndex(store, sessionIndex(sessionUid));
}
