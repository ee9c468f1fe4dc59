/**
 * Legacy service systems: the provincial systems that keep their old ticket API. Each belongs to a
 * member city, has a service code (Zhejiang `servicecode`, Jiangsu `app_id`), a registered
 * callback and a service password that stays on the server. Systems come from configuration
 * (`legacySystems`, read-only) and from store records written at run time (`register`). A stored
 * system's service password is sealed at rest (its own sealed record, so a data-key rotation
 * re-seals it); the system record itself holds no password. Every registration, replacement and
 * removal is an admin entry of the broker's audit trail (`details.area` "legacy", never a password).
 *
 * @example
 * const registry = createLegacyRegistry({ store, sealer, configured: config.legacySystems ?? [], mode: config.mode });
 * await registry.register({ province: 'zhejiang', city: '330400', serviceCode: 'jx-gjj', ... });
 */
import { legacyServiceCodePattern } from '../../adapters/legacy.ts';
import { isLegacyProvince } from '../../adapters/registry.ts';
import type { ConfiguredLegacySystem, Mode } from '../../config/defaults.ts';
import { legacySystemProblems, type LegacyScope } from '../../config/rules/legacy-systems.ts';
import { TongbanError, type ErrorKey } from '../platform/errors.ts';
import type { Store } from '../platform/storage/types.ts';
import { createSealedRecords } from '../platform/crypto/sealed-records.ts';
import type { Sealer } from '../platform/crypto/sealing.ts';
import { storeAuditTrail } from '../audit/store-trail.ts';
import type { AuditTrail } from '../audit/trail.ts';

export { legacyServiceCodePattern } from '../../adapters/legacy.ts';
export { isLegacyProvince, legacyProvinces } from '../../adapters/registry.ts';
export { configuredLegacySystemsProblems, legacyScopes, legacySystemProblems, type LegacyScope } from '../../config/rules/legacy-systems.ts';

/** The id of a province with a legacy ticket API (adapters/registry.ts lists them). */
export type LegacyProvince = string;

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
  /** `key` names the catalogue entry (its code, status and wording); `problems` go to the log. */
  constructor(key: ErrorKey, problems: readonly string[] = []) {
    super(key, { detail: problems.join('; ') });
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
  register(system: ConfiguredLegacySystem, options?: { readonly replace?: boolean; readonly actor?: string }): Promise<LegacySystemView>;
  /** The full record, password included, for the bridge's own checks. */
  get(province: LegacyProvince, serviceCode: string): Promise<LegacySystem | undefined>;
  /** Every system (of one province, when given), configuration first, without passwords. */
  list(province?: LegacyProvince): Promise<LegacySystemView[]>;
  /** Removes a store-registered system; false when there is none. Configured systems cannot be. */
  remove(province: LegacyProvince, serviceCode: string, options?: { readonly actor?: string }): Promise<boolean>;
}

const systemKey = (province: string, serviceCode: string) => `legacy:system:${province}:${serviceCode}`;
const indexKey = 'legacy:systems';
const passwordKey = (province: string, serviceCode: string) => `legacy:system-password:${province}:${serviceCode}`;
const passwordContext = 'legacy-service-password';

export interface LegacyRegistryOptions {
  readonly store: Store;
  readonly configured: readonly ConfiguredLegacySystem[];
  readonly mode: Mode;
  /** Seals stored service passwords (broker/platform/crypto). */
  readonly sealer: Sealer;
  /** The broker's audit trail; without it, the store's own (the same chain: audit/store-trail.ts). */
  readonly audit?: AuditTrail;
}

/** Who changed a system, for the trail: an id such as `operator:<id>` or `cli:<user>`. */
const defaultActor = 'system:legacy-registry';

export function createLegacyRegistry({ store, configured, mode, sealer, audit }: LegacyRegistryOptions): LegacyRegistry {
  const sealed = createSealedRecords(store, sealer);
  const trail = audit ?? storeAuditTrail(store);
  const note = (action: 'legacy.register' | 'legacy.replace' | 'legacy.remove', actor: string | undefined, details: Record<string, unknown>) =>
    trail.append({ type: 'admin', action, actor: actor ?? defaultActor, details: { area: 'legacy', ...details } });
  const fromConfig = new Map<string, LegacySystem>();
  for (const s of configured) fromConfig.set(`${s.province}:${s.serviceCode}`, normalise(s, 'config'));

  const get = async (province: LegacyProvince, serviceCode: string): Promise<LegacySystem | undefined> => {
    if (!isLegacyProvince(province) || typeof serviceCode !== 'string' || !legacyServiceCodePattern.test(serviceCode)) return undefined;
    const configuredSystem = fromConfig.get(`${province}:${serviceCode}`);
    if (configuredSystem) return configuredSystem;
    const stored = await store.get<Omit<ConfiguredLegacySystem, 'servicePassword'> & { servicePassword?: string }>(systemKey(province, serviceCode));
    if (!stored) return undefined;
    // A record written before sealing still holds its password; one written since has it sealed apart.
    const servicePassword = stored.servicePassword ?? (await sealed.get<string>(passwordKey(province, serviceCode), passwordContext));
    return servicePassword === undefined ? undefined : normalise({ ...stored, servicePassword }, 'store');
  };

  return {
    get,
    async register(system, options = {}) {
      const problems = legacySystemProblems(system, mode);
      if (problems.length) throw new LegacyRegistryError(LegacyRegistryCode.invalid, problems);
      const key = `${system.province}:${system.serviceCode}`;
      if (fromConfig.has(key)) throw new LegacyRegistryError(LegacyRegistryCode.configured);
      const record = normalise(system, 'store');
      const { source: _source, servicePassword, ...stored } = record;
      // A replacement that re-keys a password no longer opening still goes through (and is noted).
      const before = options.replace ? await get(system.province, system.serviceCode).catch(() => undefined) : undefined;
      if (!options.replace) {
        // Two operators registering the same code at once on different nodes: the claim lets one through.
        const first = await store.claim(`legacy:system-claim:${key}`, 10_000);
        if (!first || (await store.get(systemKey(system.province, system.serviceCode)))) {
          throw new LegacyRegistryError(LegacyRegistryCode.exists);
        }
      }
      await sealed.set(passwordKey(system.province, system.serviceCode), servicePassword, passwordContext);
      await store.set(systemKey(system.province, system.serviceCode), stored);
      await store.addToSet(indexKey, key);
      // From now on the record itself refuses a second registration.
      if (!options.replace) await store.delete(`legacy:system-claim:${key}`);
      await note(options.replace ? 'legacy.replace' : 'legacy.register', options.actor, {
        ...(before ? { before: viewOf(before) } : {}), after: viewOf(record), passwordChanged: before ? before.servicePassword !== servicePassword : true,
      });
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
        ...stored.filter((s): s is ConfiguredLegacySystem => s !== undefined).map((s) => normalise({ ...s, servicePassword: '' }, 'store')),
      ];
      return all.filter((s) => province === undefined || s.province === province).map(viewOf);
    },
    async remove(province, serviceCode, options = {}) {
      const key = `${province}:${serviceCode}`;
      if (fromConfig.has(key)) throw new LegacyRegistryError('legacy_system_configured_removal');
      if (!isLegacyProvince(province) || !legacyServiceCodePattern.test(serviceCode)) return false;
      const existed = await store.delete(systemKey(province, serviceCode));
      await sealed.delete(passwordKey(province, serviceCode));
      await store.removeFromSet(indexKey, key);
      if (existed) await note('legacy.remove', options.actor, { province, serviceCode });
      return existed;
    },
  };
}
