/**
 * In-memory oidc-provider adapter. Enough for a simulator: one process, nothing survives a
 * restart. The store is per simulator instance, so several simulators never share state.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  readonly payload: AdapterPayload;
  /** Epoch milliseconds, or undefined for no expiry. */
  readonly expiresAt: number | undefined;
}

export class MemoryStore {
  readonly #models = new Map<string, Map<string, Entry>>();

  #model(name: string): Map<string, Entry> {
    let model = this.#models.get(name);
    if (!model) {
      model = new Map();
      this.#models.set(name, model);
    }
    return model;
  }

  /** Live payloads of one model (e.g. `Session`), for inspection by tests and helpers. */
  entries(name: string): Array<[string, AdapterPayload]> {
    const now = Date.now();
    const out: Array<[string, AdapterPayload]> = [];
    for (const [id, entry] of this.#model(name)) {
      if (entry.expiresAt === undefined || entry.expiresAt > now) out.push([id, entry.payload]);
    }
    return out;
  }

  remove(name: string, id: string): void {
    this.#model(name).delete(id);
  }

  adapter(name: string): Adapter {
    const model = this.#model(name);
    const live = (id: string): AdapterPayload | undefined => {
      const entry = model.get(id);
      if (!entry) return undefined;
      if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
        model.delete(id);
        return undefined;
      }
      return entry.payload;
    };
    const findBy = (key: 'uid' | 'userCode', value: string): AdapterPayload | undefined => {
      for (const id of model.keys()) {
        const payload = live(id);
        if (payload?.[key] === value) return payload;
      }
      return undefined;
    };
    return {
      async upsert(id, payload, expiresIn) {
        model.set(id, { payload: structuredClone(payload), expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
      },
      async find(id) {
        const payload = live(id);
        return payload ? structuredClone(payload) : undefined;
      },
      async findByUid(uid) {
        const payload = findBy('uid', uid);
        return payload ? structuredClone(payload) : undefined;
      },
      async findByUserCode(userCode) {
        const payload = findBy('userCode', userCode);
        return payload ? structuredClone(payload) : undefined;
      },
      async consume(id) {
        const entry = model.get(id);
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        model.delete(id);
      },
      async revokeByGrantId(grantId) {
        for (const [id, entry] of model) if (entry.payload.grantId === grantId) model.delete(id);
      },
    };
  }
}
