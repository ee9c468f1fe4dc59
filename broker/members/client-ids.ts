/**
 * One client-id namespace for everything oidc-provider finds by client id: member apps, resource
 * services' own clients, clients of the configuration file and the broker's internal clients
 * (`tongban-…`, e.g. the legacy bridges). Without it a province operator could register another
 * province's predictable service id (`rs-<host><path>`) as an app and introspect that service's
 * tokens as if it were the service.
 *
 * Each id in use has a holder record `client-id:<id>` ({ holder, generation }). Taking an id first
 * wins the store's atomic claim `client-id-claim:<id>:<generation+1>`, then writes the record, so
 * of two registrations racing for one id on any nodes exactly one gets it. Releasing writes a new
 * generation without a holder. Ids registered before the namespace existed have no holder record:
 * `take` also asks `legacyHolder` (the app and service records themselves).
 */
import type { Store } from '../platform/storage/types.ts';

/** Who holds a client id. `ref` names the app (its client id) or the service (its identifier). */
export interface ClientIdHolder {
  readonly kind: 'app' | 'service' | 'configured' | 'internal';
  readonly ref: string;
}

interface HolderRecord {
  readonly holder?: ClientIdHolder;
  readonly generation: number;
}

/** Prefix of the broker's own clients (legacy bridges, …); no app or service may take one. */
const internalClientIdPrefix = 'tongban-';

/** Where a resource server's own client id points to its service (written by broker/resources). */
export const serviceClientKey = (clientId: string): string => `resource-client:${clientId}`;

/** The identifier of the service whose own client `clientId` is (for ids from before the namespace). */
export async function serviceClientOwner(store: Store, clientId: string): Promise<string | undefined> {
  return store.get<string>(serviceClientKey(clientId));
}

export interface ClientIdNamespaceOptions {
  readonly store: Store;
  /** Client ids of the configuration file. */
  readonly configured?: ReadonlySet<string>;
  /** The holder of an id registered before holder records existed (reads app and service records). */
  readonly legacyHolder?: (clientId: string) => Promise<ClientIdHolder | undefined>;
}

export interface ClientIdNamespace {
  /** Who holds `clientId`, or undefined when it is free. */
  holderOf(clientId: string): Promise<ClientIdHolder | undefined>;
  /** Takes `clientId` for `holder` (again, when it holds it already); the current holder when someone else holds it. */
  take(clientId: string, holder: ClientIdHolder): Promise<{ readonly taken: true } | { readonly taken: false; readonly holder: ClientIdHolder }>;
  /** Frees `clientId` if `holder` holds it. */
  release(clientId: string, holder: ClientIdHolder): Promise<void>;
}

const recordKey = (clientId: string) => `client-id:${clientId}`;
const claimKey = (clientId: string, generation: number) => `client-id-claim:${clientId}:${generation}`;
/** A claim only guards the moment between winning it and writing the record. */
const claimMs = 15_000;
const maxAttempts = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const same = (a: ClientIdHolder, b: ClientIdHolder) => a.kind === b.kind && a.ref === b.ref;

export function createClientIdNamespace({ store, configured = new Set(), legacyHolder }: ClientIdNamespaceOptions): ClientIdNamespace {
  function fixedHolder(clientId: string): ClientIdHolder | undefined {
    if (configured.has(clientId)) return { kind: 'configured', ref: clientId };
    if (clientId.startsWith(internalClientIdPrefix)) return { kind: 'internal', ref: clientId };
    return undefined;
  }

  async function holderOf(clientId: string): Promise<ClientIdHolder | undefined> {
    const fixed = fixedHolder(clientId);
    if (fixed) return fixed;
    const record = await store.get<HolderRecord>(recordKey(clientId));
    if (record) return record.holder;
    return legacyHolder?.(clientId);
  }

  async function move(clientId: string, to: (record: HolderRecord | undefined) => ClientIdHolder | undefined | 'keep'): Promise<ClientIdHolder | undefined> {
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const record = await store.get<HolderRecord>(recordKey(clientId));
      const next = to(record);
      if (next === 'keep') return record?.holder;
      const generation = (record?.generation ?? 0) + 1;
      if (await store.claim(claimKey(clientId, generation), claimMs)) {
        await store.set(recordKey(clientId), next ? { holder: next, generation } : { generation });
        return next;
      }
      await sleep(20 * attempt);
    }
    throw new Error(`client id "${clientId}" is being changed by someone else; try again in a few seconds`);
  }

  return {
    holderOf,
    async take(clientId, holder) {
      const fixed = fixedHolder(clientId);
      if (fixed && !same(fixed, holder)) return { taken: false, holder: fixed };
      const record = await store.get<HolderRecord>(recordKey(clientId));
      if (!record) {
        const legacy = await legacyHolder?.(clientId);
        if (legacy && !same(legacy, holder)) return { taken: false, holder: legacy };
      }
      let refused: ClientIdHolder | undefined;
      await move(clientId, (current) => {
        if (current?.holder && !same(current.holder, holder)) {
          refused = current.holder;
          return 'keep';
        }
        return current?.holder ? 'keep' : holder;
      });
      return refused ? { taken: false, holder: refused } : { taken: true };
    },
    async release(clientId, holder) {
      await move(clientId, (current) => (current?.holder && same(current.holder, holder) ? undefined : 'keep'));
    },
  };
}

/** Words for an operator: who holds a client id. */
export function describeHolder(holder: ClientIdHolder): string {
  switch (holder.kind) {
    case 'app': return 'a member app';
    case 'service': return `the own client of resource service ${holder.ref}`;
    case 'configured': return 'a client of the configuration file';
    default: return 'one of the broker\'s own clients';
  }
}
