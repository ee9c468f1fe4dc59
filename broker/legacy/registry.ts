/**
 * Legacy service systems: the provincial systems that keep their old ticket API. Each belongs to a
 * member city, has a service code (Zhejiang `servicecode`, Jiangsu `app_id`), a registered
 * callback and a service password that stays on the server. Systems come from configuration
 * (`legacySystems`, read-only) and from store records written at run time (`register`).
 *
 * @example
 * const registry = createLegacyRegistry({ store, configured: config.legacySystems ?? [], mode: config.mode });
 * await registry.register({ province: 'zhejiang', city: '330400', serviceCode: 'jx-gjj', ... });
 */
import { isLoopbackHost } from '../platform/http/urls.ts';
import type { ConfiguredLegacySystem, Mode } from '../../config/defaults.ts';
import { adapterForDivision } from '../../adapters/registry.ts';
import { TongbanError } from '../platform/errors.ts';
import { isDivisionCode } from '../identity/identifiers.ts';
import type { Store } from '../platform/storage/types.ts';

/** The provinces with a legacy ticket API. */
export const legacyProvinces = ['zhejiang', 'jiangsu'] as const;
export type LegacyProvince = (typeof legacyProvinces)[number];

/** What a legacy system may receive beside its user id (`openid` is implied). */
export const legacyScopes = ['profile', 'phone', 'id_number'] as const;
export type LegacyScope = (typeof legacyScopes)[number];

export interface LegacySystem {
  readonly province: LegacyProvince;
  readonly city: string;
  readonly serviceCode: string;
  readonly name: string;
  readonly callbackUrl: string;
  /** Server-side only: signs and verifies the system's calls. */
  readonly servicePassword: string;
  readonly scopes: readonly LegacyScope[];
  readonly suspended: boolean;
  /** `config` systems cannot be changed or removed at run time. */
  readonly source: 'config' | 'store';
}

/** A system as listed to operators: everything but the password. */
export type LegacySystemView = Omit<LegacySystem, 'servicePassword'>;

export const legacyServiceCodePattern = /^[A-Za-z0-9_.-]{1,64}$/;
const minimumPasswordLength = 16;

export function isLegacyProvince(value: unknown): value is LegacyProvince {
  return typeof value === 'string' && (legacyProvinces as readonly string[]).includes(value);
}

/**
 * Every problem of a system description, each prefixed with `at` and the field. An empty list
 * means it can be registered.
 */
export function legacySystemProblems(value: unknown, mode: Mode, at = 'legacySystem'): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: must be an object`];
  const s = value as Record<string, unknown>;
  if (!isLegacyProvince(s.province)) problems.push(`${at}.province: must be one of ${legacyProvinces.join(', ')}`);
  if (typeof s.city !== 'string' || !isDivisionCode(s.city)) {
    problems.push(`${at}.city: must be a 6-digit GB/T 2260 division code`);
  } else if (isLegacyProvince(s.province) && adapterForDivision(s.city)?.id !== s.province) {
    problems.push(`${at}.city: ${s.city} is not in ${s.province}`);
  }
  if (typeof s.serviceCode !== 'string' || !legacyServiceCodePattern.test(s.serviceCode)) {
    problems.push(`${at}.serviceCode: 1-64 characters of A-Z a-z 0-9 _ . -`);
  }
  if (typeof s.name !== 'string' || s.name.trim() === '' || s.name.length > 100) problems.push(`${at}.name: required, at most 100 characters`);
  if (typeof s.callbackUrl !== 'string') {
    problems.push(`${at}.callbackUrl: required`);
  } else {
    let url: URL | undefined;
    try {
      url = new URL(s.callbackUrl);
    } catch {
      problems.push(`${at}.callbackUrl: not a URL`);
    }
    if (url) {
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && mode === 'development' && isLoopbackHost(url))) {
        problems.push(`${at}.callbackUrl: must be https (loopback http only in development)`);
      }
      if (s.callbackUrl.includes('#') || url.username || url.password) problems.push(`${at}.callbackUrl: no fragment or credentials`);
    }
  }
  if (typeof s.servicePassword !== 'string' || s.servicePassword.length < minimumPasswordLength
    || s.servicePassword.length > 256 || !/^[\x21-\x7e]+$/.test(s.servicePassword)) {
    problems.push(`${at}.servicePassword: ${minimumPasswordLength}-256 printable ASCII characters`);
  }
  if (!Array.isArray(s.scopes) || s.scopes.some((scope) => scope !== 'openid' && !(legacyScopes as readonly unknown[]).includes(scope))) {
    problems.push(`${at}.scopes: a list of ${legacyScopes.join(', ')}`);
  }
  if (s.suspended !== undefined && typeof s.suspended !== 'boolean') problems.push(`${at}.suspended: must be a boolean`);
  return problems;
}

/**
 * Problems of the `legacySystems` configuration list (config/load.ts), and configured clients
 * that take the bridge clients' reserved ids.
 */
export function configuredLegacySystemsProblems(list: unknown, mode: Mode, clients: unknown = []): string[] {
  const problems: string[] = [];
  if (Array.isArray(clients)) {
    clients.forEach((client: { client_id?: unknown } | null, i) => {
      if (typeof client?.client_id === 'string' && client.client_id.startsWith('tongban-legacy-')) {
        problems.push(`clients[${i}].client_id: the prefix "tongban-legacy-" is reserved for the legacy bridges`);
      }
    });
  }
  if (list === undefined) return problems;
  if (!Array.isArray(list)) return [...problems, 'legacySystems: must be a list'];
  const seen = new Set<string>();
  list.forEach((entry, i) => {
    const at = `legacySystems[${i}]`;
    problems.push(...legacySystemProblems(entry, mode, at));
    const s = entry as Partial<ConfiguredLegacySystem> | null;
    if (s && typeof s.province === 'string' && typeof s.serviceCode === 'string') {
      const key = `${s.province}:${s.serviceCode}`;
      if (seen.has(key)) problems.push(`${at}.serviceCode: duplicate "${s.serviceCode}" in ${s.province}`);
      seen.add(key);
    }
  });
  return problems;
}

function normalise(s: ConfiguredLegacySystem, source: LegacySystem['source']): LegacySystem {
  return {
    province: s.province as LegacyProvince,
    city: s.city,
    serviceCode: s.serviceCode,
    name: s.name.trim(),
    callbackUrl: s.callbackUrl,
    servicePassword: s.servicePassword,
    scopes: [...new Set(s.scopes.filter((scope): scope is LegacyScope => scope !== 'openid'))],
    suspended: s.suspended ?? false,
    source,
  };
}

export function viewOf(system: LegacySystem): LegacySystemView {
  const { servicePassword: _kept, ...view } = system;
  return view;
}

export class LegacyRegistryError extends TongbanError {
  readonly problems: readonly string[];
  constructor(code: string, message: string, problems: readonly string[] = []) {
    super(code, { status: 400, message, detail: problems.join('; ') });
    this.name = 'LegacyRegistryError';
    this.problems = problems;
  }
}

export const LegacyRegistryCode = {
  invalid: 'legacy_system_invalid',
  exists: 'legacy_system_exists',
  configured: 'legacy_system_configured',
} as const;

export interface LegacyRegistry {
  /**
   * Registers a system in the store. Refuses an invalid description, a service code declared in
   * configuration, and an existing one unless `replace` (which is how a system is re-keyed,
   * suspended or moved to a new callback).
   */
  register(system: ConfiguredLegacySystem, options?: { readonly replace?: boolean }): Promise<LegacySystemView>;
  /** The full record, password included, for the bridge's own checks. */
  get(province: LegacyProvince, serviceCode: string): Promise<LegacySystem | undefined>;
  /** Every system (of one province, when given), configuration first, without passwords. */
  list(province?: LegacyProvince): Promise<LegacySystemView[]>;
  /** Removes a store-registered system; false when there is none. Configured systems cannot be. */
  remove(province: LegacyProvince, serviceCode: string): Promise<boolean>;
}

const systemKey = (province: string, serviceCode: string) => `legacy:system:${province}:${serviceCode}`;
const indexKey = 'legacy:systems';

export interface LegacyRegistryOptions {
  readonly store: Store;
  readonly configured: readonly ConfiguredLegacySystem[];
  readonly mode: Mode;
}

export function createLegacyRegistry({ store, configured, mode }: LegacyRegistryOptions): LegacyRegistry {
  const fromConfig = new Map<string, LegacySystem>();
  for (const s of configured) fromConfig.set(`${s.province}:${s.serviceCode}`, normalise(s, 'config'));

  const get = async (province: LegacyProvince, serviceCode: string): Promise<LegacySystem | undefined> => {
    if (!isLegacyProvince(province) || typeof serviceCode !== 'string' || !legacyServiceCodePattern.test(serviceCode)) return undefined;
    const configuredSystem = fromConfig.get(`${province}:${serviceCode}`);
    if (configuredSystem) return configuredSystem;
    const stored = await store.get<ConfiguredLegacySystem>(systemKey(province, serviceCode));
    return stored ? normalise(stored, 'store') : undefined;
  };

  return {
    get,
    async register(system, options = {}) {
      const problems = legacySystemProblems(system, mode);
      if (problems.length) throw new LegacyRegistryError(LegacyRegistryCode.invalid, 'The legacy system description is invalid.', problems);
      const key = `${system.province}:${system.serviceCode}`;
      if (fromConfig.has(key)) throw new LegacyRegistryError(LegacyRegistryCode.configured, 'This service code is declared in configuration.');
      const record = normalise(system, 'store');
      const { source: _source, ...stored } = record;
      if (!options.replace) {
        // Two operators registering the same code at once on different nodes: the claim lets one through.
        const first = await store.claim(`legacy:system-claim:${key}`, 10_000);
        if (!first || (await store.get(systemKey(system.province, system.serviceCode)))) {
          throw new LegacyRegistryError(LegacyRegistryCode.exists, 'A legacy system with this service code is already registered.');
        }
      }
      await store.set(systemKey(system.province, system.serviceCode), stored);
      await store.addToSet(indexKey, key);
      // From now on the record itself refuses a second registration.
      if (!options.replace) await store.delete(`legacy:system-claim:${key}`);
      return viewOf(record);
    },
    async list(province) {
      const keys = (await store.members(indexKey)).sort();
      const stored = await store.getMany<ConfiguredLegacySystem>(keys.map((key) => {
        const i = key.indexOf(':');
        return systemKey(key.slice(0, i), key.slice(i + 1));
      }));
      const all = [
        ...fromConfig.values(),
        ...stored.filter((s): s is ConfiguredLegacySystem => s !== undefined).map((s) => normalise(s, 'store')),
      ];
      return all.filter((s) => province === undefined || s.province === province).map(viewOf);
    },
    async remove(province, serviceCode) {
      const key = `${province}:${serviceCode}`;
      if (fromConfig.has(key)) throw new LegacyRegistryError(LegacyRegistryCode.configured, 'A system declared in configuration is removed there.');
      if (!isLegacyProvince(province) || !legacyServiceCodePattern.test(serviceCode)) return false;
      const existed = await store.delete(systemKey(province, serviceCode));
      await store.removeFromSet(indexKey, key);
      return existed;
    },
  };
}
