/**
 * A node's short memory of identity records. Userinfo and refresh read the record on every
 * request, and a login reads back at resume and at code redemption the record it has just written:
 * one store round trip each beyond what oidc-provider itself reads. It is safe only for what ends
 * with the session: ending a session destroys it and revokes its grants (the session or token
 * lookup, always made in the store, then fails on every node), whereas the identity record is what
 * ends the claims of an `offline_access` token after the account's last session. Those read the
 * store. A record saved here is remembered as written and one removed here is forgotten at once;
 * on the other nodes a changed identity (a new login) shows within `ttlMs`.
 */
import type { CanonicalIdentity } from '../identity/model.ts';
import type { AccountStore } from './records.ts';
import { tunables } from '../../config/defaults.ts';

export interface CachedAccountStore extends AccountStore {
  /** The record as read at most `ttlMs` ago on this node, reading through on a miss. */
  loadRecent(accountId: string): Promise<CanonicalIdentity | undefined>;
}

export interface IdentityCacheOptions {
  readonly ttlMs?: number;
  readonly maxEntries?: number;
}

export function cacheIdentities(accounts: AccountStore, options: IdentityCacheOptions = {}): CachedAccountStore {
  const ttlMs = options.ttlMs ?? tunables.accountCache.ttlMs;
  const maxEntries = options.maxEntries ?? tunables.accountCache.maxEntries;
  const entries = new Map<string, { readonly identity: CanonicalIdentity; readonly until: number }>();
  // Bumped per account on every local save or removal: a read that started before must not fill.
  const changes = new Map<string, number>();
  let changeCount = 0;
  let clearedAt = 0;

  const forget = (accountId: string) => {
    entries.delete(accountId);
    changeCount += 1;
    changes.set(accountId, changeCount);
    if (changes.size > maxEntries) {
      changes.clear();
      clearedAt = changeCount;
    }
  };

  const remember = (accountId: string, identity: CanonicalIdentity, now: number) => {
    entries.delete(accountId);
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
    entries.set(accountId, { identity, until: now + ttlMs });
  };

  return {
    async save(accountId, identity, ttlSeconds) {
      forget(accountId);
      await accounts.save(accountId, identity, ttlSeconds);
      forget(accountId);
      // The login's next requests (resume, code redemption) often land here: no need to read it back.
      remember(accountId, identity, Date.now());
    },
    load: (accountId) => accounts.load(accountId),
    async remove(accountId) {
      forget(accountId);
      await accounts.remove(accountId);
      forget(accountId);
    },
    async loadRecent(accountId) {
      const now = Date.now();
      const hit = entries.get(accountId);
      if (hit && hit.until > now) return hit.identity;
      const started = changeCount;
      const identity = await accounts.load(accountId);
      // Absent records are not remembered: a login on another node may write one at any moment.
      if (identity && started >= clearedAt && (changes.get(accountId) ?? 0) <= started) remember(accountId, identity, now);
      return identity;
    },
  };
}
