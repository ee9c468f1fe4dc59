/**
 * The operators' side of initial access tokens: how many registrations each may make (`uses`,
 * e.g. 1 for a single-use token), a list that never holds a token itself (only the first 16
 * characters of its SHA-256, the id the audit trail already uses), and revocation.
 *
 * Each use is a claim in the store (`registry:iat-use:<digest>:<n>`, n = 1..uses), so two
 * registrations racing on two nodes can never both take the last use.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../platform/storage/types.ts';
import type { Actor } from './types.ts';

export interface InitialAccessTokenEntry {
  /** First 16 characters of the token's SHA-256 (base64url). */
  readonly id: string;
  readonly city: string;
  readonly issued_by: Actor;
  readonly expires_at: string;
  /** Registrations the token allows; absent: any number until it expires. */
  readonly uses?: number;
  /** Registrations made with it so far. */
  readonly used: number;
  readonly revoked_at?: string;
}

type StoredEntry = Omit<InitialAccessTokenEntry, 'used'> & { readonly digest: string };

export type TokenUse = 'ok' | 'used_up' | 'revoked';

export interface InitialAccessTokenLedger {
  /** Records a freshly issued token; returns its id. */
  record(token: string, entry: Omit<InitialAccessTokenEntry, 'id' | 'used' | 'revoked_at'>, ttlMs: number): Promise<string>;
  list(): Promise<InitialAccessTokenEntry[]>;
  get(id: string): Promise<InitialAccessTokenEntry | undefined>;
  /** Marks the token revoked; undefined when no such token is listed. */
  revoke(id: string, at: string): Promise<InitialAccessTokenEntry | undefined>;
  /** Takes one use of the token (tokens issued before the ledger are unlimited). */
  use(token: string): Promise<TokenUse>;
}

const digestOf = (token: string) => createHash('sha256').update(token).digest('base64url');
const entryKey = (id: string) => `registry:iat-entry:${id}`;
const usesKey = (id: string) => `registry:iat-uses:${id}`;
const indexKey = 'registry:iat-entries';

export function createInitialAccessTokenLedger(store: Store): InitialAccessTokenLedger {
  const view = async (stored: StoredEntry): Promise<InitialAccessTokenEntry> => {
    const { digest: _digest, ...rest } = stored;
    return { ...rest, used: (await store.members(usesKey(stored.id))).length };
  };
  const read = (id: string) => store.get<StoredEntry>(entryKey(id));

  return {
    async record(token, entry, ttlMs) {
      const digest = digestOf(token);
      const id = digest.slice(0, 16);
      await store.set(entryKey(id), { ...entry, id, digest } satisfies StoredEntry, ttlMs);
      await store.addToSet(indexKey, id);
      return id;
    },
    async list() {
      const ids = await store.members(indexKey);
      const entries = await store.getMany<StoredEntry>(ids.map(entryKey));
      const out: InitialAccessTokenEntry[] = [];
      for (const [i, entry] of entries.entries()) {
        // An expired token's entry is gone: drop it from the index too.
        if (entry) out.push(await view(entry));
        else await store.removeFromSet(indexKey, ids[i]!);
      }
      return out.sort((a, b) => a.expires_at.localeCompare(b.expires_at));
    },
    async get(id) {
      const entry = await read(id);
      return entry ? view(entry) : undefined;
    },
    async revoke(id, at) {
      const entry = await read(id);
      if (!entry) return undefined;
      const revoked: StoredEntry = { ...entry, revoked_at: entry.revoked_at ?? at };
      const ttlMs = Date.parse(entry.expires_at) - Date.now() + 5_000;
      await store.set(entryKey(id), revoked, Math.max(ttlMs, 1_000));
      return view(revoked);
    },
    async use(token) {
      const digest = digestOf(token);
      const entry = await read(digest.slice(0, 16));
      if (!entry) return 'ok';
      if (entry.revoked_at) return 'revoked';
      if (entry.uses === undefined) return 'ok';
      const ttlMs = Math.max(Date.parse(entry.expires_at) - Date.now() + 5_000, 1_000);
      for (let n = 1; n <= entry.uses; n += 1) {
        if (await store.claim(`registry:iat-use:${digest}:${n}`, ttlMs)) {
          await store.addToSet(usesKey(entry.id), String(n), ttlMs);
          return 'ok';
        }
      }
      return 'used_up';
    },
  };
}
