/**
 * What single logout needs to know about a broker session beyond oidc-provider's own Session
 * record: the national login behind it (its `sid`, which a national back-channel logout names), and
 * the indexes from a national `sid` or an account to the broker sessions. Everything lives as long
 * as the session and no longer.
 */
import type { Store } from '../platform/storage/types.ts';

/**
 * The national login of one broker session. Not its ID token: that may carry the person's name and
 * ID number, and would have to travel in a URL to end the national session.
 */
export interface NationalLogin {
  /** The national session id (`sid` of the ID token), when the national platform gives one. */
  readonly sid?: string;
}

export interface SessionLoginRecord extends NationalLogin {
  readonly accountId: string;
}

export interface SessionRegistry {
  /**
   * Records (or replaces, after a step-up) the national login of a broker session. `ttlSeconds`:
   * the session lifetime, the same for every login (the indexes rely on it). `fresh`: the
   * session was created by this login (its uid is new), so nothing recorded before can be replaced.
   */
  recordLogin(sessionUid: string, accountId: string, login: NationalLogin, ttlSeconds: number, options?: { readonly fresh?: boolean }): Promise<void>;
  loginOf(sessionUid: string): Promise<SessionLoginRecord | undefined>;
  /** Broker session uids that came from a national session. */
  sessionsOfNationalSid(sid: string): Promise<string[]>;
  /** Broker session uids of an account. */
  sessionsOfAccount(accountId: string): Promise<string[]>;
  /**
   * Drops what is known of an ended session. Returns its record and whether the account has no
   * other session left (then nothing about the person should outlive it).
   */
  forget(sessionUid: string, accountId: string | undefined): Promise<{ record: SessionLoginRecord | undefined; lastOfAccount: boolean }>;
}

const loginKey = (uid: string) => `sso:login:${uid}`;
const nationalSidKey = (sid: string) => `sso:by-national-sid:${sid}`;
const accountKey = (accountId: string) => `sso:by-account:${accountId}`;

export function createSessionRegistry(store: Store): SessionRegistry {
  return {
    async recordLogin(sessionUid, accountId, login, ttlSeconds, options) {
      const ttlMs = ttlSeconds * 1000;
      const previous = options?.fresh ? undefined : await store.get<SessionLoginRecord>(loginKey(sessionUid));
      const record: SessionLoginRecord = { accountId, ...(login.sid ? { sid: login.sid } : {}) };
      // Indexes first: a national logout arriving meanwhile must already find the session.
      await Promise.all([
        // Every add passes the session lifetime: the set lives that long after its latest member.
        store.addToSet(accountKey(accountId), sessionUid, ttlMs, { fixedLifetime: true }),
        login.sid ? store.addToSet(nationalSidKey(login.sid), sessionUid, ttlMs, { fixedLifetime: true }) : undefined,
      ]);
      await store.set(loginKey(sessionUid), record, ttlMs);
      if (previous?.sid && previous.sid !== login.sid) await store.removeFromSet(nationalSidKey(previous.sid), sessionUid);
      if (previous && previous.accountId !== accountId) await store.removeFromSet(accountKey(previous.accountId), sessionUid);
    },

    loginOf: (sessionUid) => store.get<SessionLoginRecord>(loginKey(sessionUid)),
    sessionsOfNationalSid: (sid) => store.members(nationalSidKey(sid)),
    sessionsOfAccount: (accountId) => store.members(accountKey(accountId)),

    async forget(sessionUid, accountId) {
      const record = await store.get<SessionLoginRecord>(loginKey(sessionUid));
      const account = record?.accountId ?? accountId;
      await Promise.all([
        record?.sid ? store.removeFromSet(nationalSidKey(record.sid), sessionUid) : undefined,
        account ? store.removeFromSet(accountKey(account), sessionUid) : undefined,
      ]);
      await store.delete(loginKey(sessionUid));
      const lastOfAccount = account ? (await store.members(accountKey(account))).length === 0 : false;
      return { record, lastOfAccount };
    },
  };
}
