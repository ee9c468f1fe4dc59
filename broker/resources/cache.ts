/**
 * A node's memory of resource-server registry reads. Every token, introspection and client
 * authentication asks whether a client id is a service's own client; reading the store each time
 * cost two round trips per introspection. Every registry change writes a new `resources:version`;
 * a node re-reads it at most every `refreshMs` and forgets everything when it moved, so a change
 * made anywhere (another node, the operator command) is seen everywhere within that time, and at
 * once on the node that made it. Absent records are remembered too: most client ids are apps.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../platform/storage/types.ts';
import { tunables } from '../../config/defaults.ts';

const versionKey = 'resources:version';
const maxEntries = 10_000;

export interface ResourceServerCache {
  /** The cached answer of `read` for `key` (undefined included), reading through on a miss. */
  through<T>(key: string, read: () => Promise<T | undefined>): Promise<T | undefined>;
  /** After a local change: forget everything and tell the other nodes. */
  changed(): Promise<void>;
}

export function createResourceServerCache(store: Store, refreshMs: number = tunables.resourceRegistryRefreshMs): ResourceServerCache {
  const entries = new Map<string, { readonly value: unknown }>();
  let knownVersion: string | undefined;
  let checkedAt = 0;
  let checking: Promise<void> | undefined;
  // Bumped whenever the cache is emptied: a read that started before must not fill it.
  let generation = 0;

  const forget = () => {
    entries.clear();
    generation += 1;
  };

  const fresh = () => Date.now() - checkedAt < refreshMs;

  async function refresh(): Promise<void> {
    if (fresh()) return;
    checking ??= (async () => {
      try {
        const version = await store.get<string>(versionKey);
        if (version !== knownVersion) {
          forget();
          knownVersion = version;
        }
        checkedAt = Date.now();
      } finally {
        checking = undefined;
      }
    })();
    await checking;
  }

  async function readThrough<T>(key: string, read: () => Promise<T | undefined>): Promise<T | undefined> {
    await refresh();
    const hit = entries.get(key);
    if (hit) return hit.value as T | undefined;
    const started = generation;
    const value = await read();
    if (started === generation) {
      if (entries.size >= maxEntries) entries.clear();
      entries.set(key, { value });
    }
    return value;
  }

  return {
    // A remembered answer while the version is fresh is the usual case (several per token request):
    // answered at once, without the turns of the read-through path.
    through<T>(key: string, read: () => Promise<T | undefined>) {
      const hit = fresh() ? entries.get(key) : undefined;
      return hit ? Promise.resolve(hit.value as T | undefined) : readThrough(key, read);
    },
    async changed() {
      forget();
      const version = randomBytes(12).toString('base64url');
      await store.set(versionKey, version);
      forget();
      knownVersion = version;
      checkedAt = Date.now();
    },
  };
}
