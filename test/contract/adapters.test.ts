/**
 * The province adapter contract: one set of checks, run over every registered adapter (and the
 * template), and run over deliberately broken adapters to show that each check bites.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { assuranceLevels } from '../../broker/identity/assurance.ts';
import { isDivisionCode } from '../../broker/identity/identifiers.ts';
import type { CanonicalIdentity, LegalPerson } from '../../broker/identity/model.ts';
import { template } from '../../adapters/_template/index.ts';
import { adapterById, adapterForDivision, adapterForProvince, provinceAdapters, registeredAdapters } from '../../adapters/registry.ts';
import { releaseScopes, type ReleaseScope } from '../../adapters/scopes.ts';
import { reservedClaimNames } from '../../adapters/standard.ts';
import type { DeriveId, ProvinceAdapter, ReleaseContext } from '../../adapters/types.ts';
import { zhejiang } from '../../adapters/zhejiang/index.ts';
import { actingFor, fixtureIdentities, testDerive } from '../fixtures/identities.ts';

export interface Violation {
  /** Stable name of the check that failed. */
  readonly check: string;
  readonly detail: string;
}

/** Every subset of the release scopes. */
const scopeSets: readonly ReadonlySet<ReleaseScope>[] = Array.from({ length: 2 ** releaseScopes.length }, (_, bits) =>
  new Set(releaseScopes.filter((_, i) => (bits >> i) & 1)));

function describeContext(context: ReleaseContext): string {
  const acting = context.acting ? ` acting ${context.acting.role} for ${context.acting.creditCode}` : '';
  return `${context.identity.person.nationalSubject}${acting} [${[...context.scopes].join(' ')}]`;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

function mentions(claims: Record<string, unknown>, needle: string): string[] {
  const lower = needle.toLowerCase();
  return Object.entries(claims).filter(([, value]) => strings(value).some((s) => s.toLowerCase().includes(lower))).map(([name]) => name);
}

function isClaimValue(value: unknown): boolean {
  return ['string', 'number', 'boolean'].includes(typeof value) || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof Set)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function contexts(adapter: ProvinceAdapter, identity: CanonicalIdentity): ReleaseContext[] {
  const accountId = adapter.accountId(identity, testDerive);
  const actings: (LegalPerson | undefined)[] = [undefined, ...identity.representations.map((_, i) => actingFor(identity, i))];
  return actings.flatMap((acting) => scopeSets.map((scopes) => ({ identity, scopes: new Set(scopes), accountId, ...(acting ? { acting } : {}) })));
}

function staticViolations(adapter: ProvinceAdapter): Violation[] {
  const violations: Violation[] = [];
  const add = (check: string, detail: string) => violations.push({ check, detail });
  if (!/^[a-z][a-z0-9_-]*$/.test(adapter.id)) add('id-shape', adapter.id);
  if (!/^\d{2}0000$/.test(adapter.provinceCode) || !isDivisionCode(adapter.provinceCode)) add('province-code-shape', adapter.provinceCode);
  if (adapter.sector.trim() === '') add('sector-missing', adapter.id);

  const seen = new Map<string, string>();
  for (const [scope, names] of Object.entries(adapter.claimsByScope)) {
    if (!(releaseScopes as readonly string[]).includes(scope)) add('unknown-scope', scope);
    for (const name of names) {
      if (reservedClaimNames.has(name)) add('reserved-claim-name', `${name} under ${scope}`);
      const other = seen.get(name);
      if (other !== undefined && other !== scope) add('claim-in-two-scopes', `${name} under ${other} and ${scope}`);
      seen.set(name, scope);
    }
  }

  const scale = adapter.assuranceScale;
  if (new Set(scale).size !== scale.length) add('assurance-scale-duplicates', scale.join(' '));
  let previous = -1;
  for (const level of assuranceLevels) {
    const index = scale.indexOf(adapter.assurance(level));
    if (index < 0) add('assurance-off-scale', `level ${level} → ${String(adapter.assurance(level))}`);
    else if (index < previous) add('assurance-not-monotonic', `level ${level} → ${String(adapter.assurance(level))}`);
    previous = Math.max(previous, index);
  }
  // Real-name data is only trustworthy above level 1: a province must be able to tell the two apart.
  if (adapter.assurance(1) === adapter.assurance(2)) add('assurance-unverified-as-real-name', String(adapter.assurance(1)));
  return violations;
}

function accountIdViolations(adapter: ProvinceAdapter, identities: readonly CanonicalIdentity[]): Violation[] {
  const violations: Violation[] = [];
  const add = (check: string, detail: string) => violations.push({ check, detail });
  const ids = new Map<string, string>();
  for (const identity of identities) {
    const { nationalSubject, document } = identity.person;
    const calls: [string, string][] = [];
    const spy: DeriveId = (sector, value) => {
      calls.push([sector, value]);
      return testDerive(sector, value);
    };
    const first = adapter.accountId(identity, spy);
    const second = adapter.accountId(structuredClone(identity), testDerive);
    if (first !== second) add('account-id-unstable', nationalSubject);
    if (first.toLowerCase().includes(document.number.toLowerCase())) add('account-id-contains-id-number', nationalSubject);
    if (first.includes(nationalSubject)) add('account-id-reveals-national-subject', nationalSubject);
    if (calls.length === 0) add('account-id-not-derived', nationalSubject);
    for (const [sector, value] of calls) {
      if (sector !== adapter.sector) add('account-id-wrong-sector', `${nationalSubject}: ${sector}`);
      if (value.toLowerCase().includes(document.number.toLowerCase())) add('account-id-from-id-number', nationalSubject);
    }
    const clash = ids.get(first);
    if (clash !== undefined) add('account-id-collision', `${clash} and ${nationalSubject}`);
    ids.set(first, nationalSubject);
  }
  return violations;
}

function releaseViolations(adapter: ProvinceAdapter, context: ReleaseContext): Violation[] {
  const violations: Violation[] = [];
  const where = describeContext(context);
  const add = (check: string, detail: string) => violations.push({ check, detail: `${detail} — ${where}` });
  const before = structuredClone(context);

  let claims: Record<string, unknown>;
  let again: Record<string, unknown>;
  try {
    claims = adapter.claims(context);
    again = adapter.claims(deepFreeze(structuredClone(context)));
  } catch (error) {
    return [{ check: 'impure', detail: `claims() threw ${(error as Error).name}: ${(error as Error).message} — ${where}` }];
  }
  if (!isDeepStrictEqual(before, context)) add('impure', 'claims() mutated its input');
  if (!isDeepStrictEqual(claims, again)) add('impure', 'claims() gave two answers for one input');

  const { person } = context.identity;
  const scopes = context.scopes;
  const allowed = new Set([...scopes].flatMap((scope) => adapter.claimsByScope[scope as ReleaseScope] ?? []));
  for (const [name, value] of Object.entries(claims)) {
    if (!allowed.has(name)) add('claim-outside-scope', name);
    if (!isClaimValue(value)) add('claim-value-type', name);
  }
  if (!scopes.has('id_number')) {
    for (const name of mentions(claims, person.document.number)) add('id-number-without-scope', name);
  }
  if (!scopes.has('phone') && person.phone !== undefined) {
    for (const name of mentions(claims, person.phone)) add('phone-without-scope', name);
  }

  const legalPersonReleased = context.acting !== undefined && scopes.has('legal_person');
  if (!legalPersonReleased) {
    const legalNames = new Set(adapter.claimsByScope.legal_person ?? []);
    for (const name of Object.keys(claims)) if (legalNames.has(name)) add('legal-person-without-acting', name);
    for (const organisation of context.identity.representations) {
      for (const name of [...mentions(claims, organisation.creditCode), ...mentions(claims, organisation.name)]) {
        add('legal-person-without-acting', name);
      }
    }
  } else if (context.acting) {
    const values = new Set(Object.values(claims));
    if (!values.has(context.acting.creditCode)) add('legal-person-minimum', 'credit code not released');
    if (!values.has(context.acting.name)) add('legal-person-minimum', 'organisation name not released');
    const level = adapter.assurance(person.assurance);
    const legalNames = adapter.claimsByScope.legal_person ?? [];
    if (!legalNames.some((name) => claims[name] === level)) add('legal-person-minimum', 'acting person\'s assurance level not released');
  }
  return violations;
}

/** Every violation of the contract by one adapter, over the given identities. */
export function adapterViolations(adapter: ProvinceAdapter, identities: readonly CanonicalIdentity[] = fixtureIdentities): Violation[] {
  const violations = [...staticViolations(adapter), ...accountIdViolations(adapter, identities)];
  for (const identity of identities) {
    for (const context of contexts(adapter, identity)) violations.push(...releaseViolations(adapter, context));
  }
  const unique = new Map(violations.map((v) => [`${v.check}: ${v.detail}`, v]));
  return [...unique.values()];
}

/** Violations across the adapters of a registry: what must differ between provinces. */
export function registryViolations(registry: Readonly<Record<string, ProvinceAdapter>>, identities: readonly CanonicalIdentity[] = fixtureIdentities): Violation[] {
  const violations: Violation[] = [];
  const adapters = Object.entries(registry);
  for (const [code, adapter] of adapters) {
    if (code !== adapter.provinceCode) violations.push({ check: 'registry-key', detail: `${code} holds ${adapter.provinceCode}` });
  }
  for (const field of ['id', 'provinceCode', 'sector'] as const) {
    const seen = new Map<string, string>();
    for (const [code, adapter] of adapters) {
      const clash = seen.get(adapter[field]);
      if (clash !== undefined) violations.push({ check: `duplicate-${field}`, detail: `${adapter[field]} in ${clash} and ${code}` });
      seen.set(adapter[field], code);
    }
  }
  for (const identity of identities) {
    const seen = new Map<string, string>();
    for (const [code, adapter] of adapters) {
      const id = adapter.accountId(identity, testDerive);
      const clash = seen.get(id);
      if (clash !== undefined) {
        violations.push({ check: 'account-id-shared-across-provinces', detail: `${identity.person.nationalSubject} in ${clash} and ${code}` });
      }
      seen.set(id, code);
    }
  }
  return violations;
}

function checks(violations: readonly Violation[]): string[] {
  return [...new Set(violations.map((v) => v.check))].sort();
}

describe('province adapter contract', () => {
  it('covers at least the four provinces of the Yangtze River Delta', () => {
    const ids = registeredAdapters().map((a) => a.id);
    for (const id of ['anhui', 'jiangsu', 'shanghai', 'zhejiang']) assert.ok(ids.includes(id), id);
  });

  it('holds across the registry (unique ids, codes and sectors; account ids differ by province)', () => {
    assert.deepEqual(registryViolations(provinceAdapters), []);
  });

  for (const adapter of registeredAdapters()) {
    it(`${adapter.id} keeps the contract`, () => {
      assert.deepEqual(adapterViolations(adapter), []);
    });
  }

  it('the template keeps it too, so a copy starts out compliant', () => {
    // Its placeholder province code is deliberately no province.
    assert.deepEqual(adapterViolations(template).filter((v) => v.check !== 'province-code-shape'), []);
  });
});

describe('province registry', () => {
  it('finds the province of a member city or district from its first two digits', () => {
    assert.equal(adapterForDivision('330400')?.id, 'zhejiang'); // 嘉兴
    assert.equal(adapterForDivision('330421')?.id, 'zhejiang'); // 嘉善县
    assert.equal(adapterForDivision('310118')?.id, 'shanghai'); // 青浦区
    assert.equal(adapterForDivision('320509')?.id, 'jiangsu'); // 吴江区
    assert.equal(adapterForDivision('341800')?.id, 'anhui'); // 宣城
  });

  it('has no adapter for other provinces or for malformed codes', () => {
    for (const code of ['440100', '110000', '3304', '33040A', '', '000000']) assert.equal(adapterForDivision(code), undefined, code);
    assert.equal(adapterForProvince('toString'), undefined);
  });

  it('finds an adapter by id', () => {
    assert.equal(adapterById('anhui')?.provinceCode, '340000');
    assert.equal(adapterById('template'), undefined);
  });
});

describe('the contract catches broken adapters', () => {
  const broken: Record<string, { adapter: ProvinceAdapter; expect: string[] }> = {
    'leaks the ID number without the id_number scope': {
      adapter: { ...zhejiang, claims: (c) => ({ ...zhejiang.claims(c), idnum: c.identity.person.document.number }) },
      expect: ['claim-outside-scope', 'id-number-without-scope'],
    },
    'hides the ID number in another claim': {
      adapter: { ...zhejiang, claims: (c) => ({ ...zhejiang.claims(c), userid: `${c.accountId}:${c.identity.person.document.number}` }) },
      expect: ['id-number-without-scope'],
    },
    'emits an undeclared claim': {
      adapter: { ...zhejiang, claims: (c) => ({ ...zhejiang.claims(c), nation: '汉' }) },
      expect: ['claim-outside-scope'],
    },
    'releases the company without an acting legal person': {
      adapter: {
        ...zhejiang,
        claims: (c) => {
          const first = c.identity.representations[0];
          return { ...zhejiang.claims(c), ...(first && c.scopes.has('legal_person') ? { unifiedSocialId: first.creditCode } : {}) };
        },
      },
      expect: ['legal-person-without-acting'],
    },
    'leaves out the acting person\'s assurance level': {
      adapter: { ...zhejiang, claims: (c) => { const { attnAuthLevel: _, ...rest } = zhejiang.claims(c); return rest; } },
      expect: ['legal-person-minimum'],
    },
    'shadows a standard claim': {
      adapter: { ...zhejiang, claimsByScope: { ...zhejiang.claimsByScope, profile: [...zhejiang.claimsByScope.profile, 'name'] } },
      expect: ['reserved-claim-name'],
    },
    'maps assurance downwards': {
      adapter: { ...zhejiang, assurance: (level) => [1, 3, 2, 3][level - 1]! },
      expect: ['assurance-not-monotonic'],
    },
    'tells the province an unverified account is real-name': {
      adapter: { ...zhejiang, assurance: (level) => Math.max(2, Math.min(level, 3)) },
      expect: ['assurance-unverified-as-real-name'],
    },
    'mutates its input': {
      adapter: { ...zhejiang, claims: (c) => { (c.scopes as Set<string>).delete('profile'); return zhejiang.claims(c); } },
      expect: ['impure'],
    },
    'answers differently each time': {
      adapter: (() => { let calls = 0; return { ...zhejiang, claims: (c: ReleaseContext) => ({ ...zhejiang.claims(c), ...(c.scopes.has('openid') ? { loginname: `u${calls++}` } : {}) }) }; })(),
      expect: ['impure'],
    },
    'derives the account id from the ID number': {
      adapter: { ...zhejiang, accountId: (identity, derive) => derive(zhejiang.sector, identity.person.document.number) },
      expect: ['account-id-from-id-number'],
    },
    'uses the national subject as the account id': {
      adapter: { ...zhejiang, accountId: (identity) => identity.person.nationalSubject },
      expect: ['account-id-not-derived', 'account-id-reveals-national-subject'],
    },
    'gives everyone the same account id': {
      adapter: { ...zhejiang, accountId: (_identity, derive) => derive(zhejiang.sector, 'everyone') },
      expect: ['account-id-collision'],
    },
  };

  for (const [title, { adapter, expect }] of Object.entries(broken)) {
    it(`flags an adapter that ${title}`, () => {
      const found = checks(adapterViolations(adapter));
      for (const check of expect) assert.ok(found.includes(check), `expected ${check}, found ${found.join(', ') || 'nothing'}`);
    });
  }

  it('flags a registry where two provinces share an id and a sector', () => {
    const copy: ProvinceAdapter = { ...zhejiang, provinceCode: '350000' };
    assert.deepEqual(checks(registryViolations({ ...provinceAdapters, '350000': copy })), [
      'account-id-shared-across-provinces', 'duplicate-id', 'duplicate-sector',
    ]);
  });

  it('flags a registry line under the wrong province code', () => {
    assert.deepEqual(checks(registryViolations({ '330000': zhejiang, '320000': zhejiang })), [
      'account-id-shared-across-provinces', 'duplicate-id', 'duplicate-provinceCode', 'duplicate-sector', 'registry-key',
    ]);
  });
});
