/**
 * The simulator's people and companies. Every resident ID number and credit code here is synthetic:
 * a real division code, a fictional sequence and a computed check character (asserted in
 * test/flow/simulator.demo-data.test.ts). Documented in scripts/simulator/README.md.
 */
import { createHmac } from 'node:crypto';
import type { AssuranceLevel } from '../../../broker/identity/assurance.ts';
import type { NationalEntity } from '../../../broker/national/claims.ts';

/** The password of every demo account. */
export const demoPassword = 'tongban-demo';

const day = 24 * 3600;

export interface DemoCompany {
  readonly creditCode: string;
  readonly name: string;
  readonly orgType: string;
  /** GB/T 2260 code of the registering authority (characters 3–8 of the credit code). */
  readonly division: string;
}

/** Fictional companies; the organisation codes `MA2TB0…` are made up. */
export const demoCompanies = {
  jiaxing: { creditCode: '91330402MA2TB0J167', name: '嘉兴通办示范科技有限公司', orgType: 'enterprise', division: '330402' },
  suzhou: { creditCode: '91320505MA2TB0K20P', name: '苏州通办示范贸易有限公司', orgType: 'enterprise', division: '320505' },
  hefei: { creditCode: '91340104MA2TB0H3XC', name: '合肥通办示范物流有限公司', orgType: 'enterprise', division: '340104' },
  shanghai: { creditCode: '91310115MA2TB0U40X', name: '上海通办示范咨询有限公司', orgType: 'enterprise', division: '310115' },
} as const satisfies Record<string, DemoCompany>;

export interface DemoRepresentation {
  readonly company: DemoCompany;
  readonly role: 'legal_representative' | 'agent';
  /** For agents: mandate scope, and its expiry relative to the simulator's creation (days, negative = past). */
  readonly mandate?: { readonly scope: readonly string[]; readonly expiresInDays: number };
}

export interface DemoAccount {
  readonly username: string;
  /** The opaque national subject (`sub`); not derived from the ID number. */
  readonly sub: string;
  readonly name: string;
  readonly certType: 'resident_id';
  readonly certNo: string;
  /** E.164. */
  readonly phone?: string;
  /** The level a password login gives. */
  readonly loginLevel: AssuranceLevel;
  /** The highest level this person can reach (by the simulated face check). */
  readonly maxLevel: AssuranceLevel;
  readonly representations: readonly DemoRepresentation[];
}

export const demoAccounts: readonly DemoAccount[] = [
  {
    username: 'zhangsan',
    sub: 'zwfw-7c1e4a9b2d5f4e08',
    name: '张三',
    certType: 'resident_id',
    certNo: '330106198504121356',
    phone: '+8613900000001',
    loginLevel: 3,
    maxLevel: 4,
    representations: [],
  },
  {
    username: 'lisi',
    sub: 'zwfw-2f8d6b3a9e0c4d17',
    name: '李四',
    certType: 'resident_id',
    certNo: '320505199006202717',
    phone: '+8613900000002',
    loginLevel: 3,
    maxLevel: 3,
    representations: [
      { company: demoCompanies.jiaxing, role: 'agent', mandate: { scope: ['tax', 'social_insurance'], expiresInDays: 365 } },
      { company: demoCompanies.suzhou, role: 'agent', mandate: { scope: ['business_registration'], expiresInDays: 90 } },
      // Still listed after expiry, as the national platform does: the broker must filter it out.
      { company: demoCompanies.hefei, role: 'agent', mandate: { scope: ['tax'], expiresInDays: -30 } },
    ],
  },
  {
    username: 'wangwu',
    sub: 'zwfw-9a4c0e6f1b8d4c29',
    name: '王五',
    certType: 'resident_id',
    certNo: '340104197809153572',
    loginLevel: 2,
    maxLevel: 2,
    representations: [],
  },
  {
    username: 'zhaoliu',
    sub: 'zwfw-5e3b7d1c8f2a4b36',
    name: '赵六',
    certType: 'resident_id',
    certNo: '310115198211034681',
    phone: '+8613900000004',
    loginLevel: 3,
    maxLevel: 3,
    representations: [{ company: demoCompanies.shanghai, role: 'legal_representative' }],
  },
];

/**
 * The `certKey`-style join key: a keyed hash of ID number and name, opaque to everyone else.
 * The key is fixed so the value is stable across simulator restarts.
 */
export function certKeyOf(certNo: string, name: string): string {
  return createHmac('sha256', 'national-simulator-cert-key').update(`${certNo}|${name}`).digest('hex').slice(0, 32).toUpperCase();
}

/** One person's mutable state inside one simulator instance (mandates can be revoked or re-dated). */
export interface AccountState {
  readonly account: DemoAccount;
  entities: NationalEntity[];
}

/** Fresh per-instance account state, mandate expiries anchored at `nowSeconds`. */
export function accountStates(nowSeconds: number): Map<string, AccountState> {
  const states = new Map<string, AccountState>();
  for (const account of demoAccounts) {
    const entities = account.representations.map((r): NationalEntity => ({
      credit_code: r.company.creditCode,
      name: r.company.name,
      org_type: r.company.orgType,
      role: r.role,
      ...(r.mandate ? { mandate: { scope: [...r.mandate.scope], expires_at: nowSeconds + r.mandate.expiresInDays * day } } : {}),
    }));
    states.set(account.username, { account, entities });
  }
  return states;
}
