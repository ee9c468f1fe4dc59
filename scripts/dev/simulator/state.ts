/**
 * What one simulator instance holds while it runs: its people and their mandates, its clients,
 * its oidc-provider records, pending face checks, signing keys and the misbehaviour in force.
 * The other files of the simulator read and change it through this one object.
 */
import type { CryptoKey, JWK } from 'jose';
import type { NationalEntity } from '../../../broker/national/claims.ts';
import { accountStates, certKeyOf, demoCompanies, type AccountState } from './accounts.ts';
import { MemoryStore } from './adapter.ts';
import type { NationalSession, NationalSimulatorOptions, SimulatorClient } from './contract.ts';
import { spoilCheckChar, type Misbehaviour, type SigningKey } from './misbehaviour.ts';

const residentCheckChars = '10X98765432';
const creditAlphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';

export interface PendingFaceCheck {
  readonly accountId: string;
  /** Epoch milliseconds after which the pending check is dropped. */
  readonly until: number;
}

export interface SimulatorState {
  readonly options: NationalSimulatorOptions;
  /** Cookie name prefix. */
  readonly prefix: string;
  nowSeconds(): number;
  /** The issuer identifier (its port is fixed on start when asked for port 0). */
  issuer: string;
  /** Demo accounts by username, and by national `sub`. */
  readonly states: Map<string, AccountState>;
  readonly bySub: Map<string, AccountState>;
  readonly clients: Map<string, SimulatorClient>;
  readonly store: MemoryStore;
  readonly pendingFace: Map<string, PendingFaceCheck>;
  readonly foreignKeys: Map<string, Promise<CryptoKey>>;
  /** Signing keys by algorithm, and their public JWKs (set on start). */
  readonly keys: Map<string, SigningKey>;
  keyJwks: JWK[];
  mode: Misbehaviour | undefined;
  delayMs: number;
}

export function createSimulatorState(options: NationalSimulatorOptions, issuer: string): SimulatorState {
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  const states = accountStates(nowSeconds());
  return {
    options,
    prefix: options.cookiePrefix ?? 'national',
    nowSeconds,
    issuer,
    states,
    bySub: new Map<string, AccountState>([...states.values()].map((s) => [s.account.sub, s])),
    clients: new Map(options.clients.map((c) => [c.client_id, c])),
    store: new MemoryStore(),
    pendingFace: new Map(),
    foreignKeys: new Map(),
    keys: new Map(),
    keyJwks: [],
    mode: undefined,
    delayMs: 3000,
  };
}

export function accountState(sim: SimulatorState, username: string): AccountState {
  const found = sim.states.get(username);
  if (!found) throw new Error(`no demo account ${username}`);
  return found;
}

export function mandateOf(sim: SimulatorState, username: string, creditCode: string): NationalEntity {
  const entity = accountState(sim, username).entities.find((e) => e.credit_code === creditCode);
  if (!entity) throw new Error(`${username} has no entity ${creditCode}`);
  return entity;
}

/** The claims released for a person, spoiled as the misbehaviour in force asks. */
export function claimsFor(sim: SimulatorState, s: AccountState): Record<string, unknown> {
  const { account } = s;
  let entities: NationalEntity[] = structuredClone(s.entities);
  if (sim.mode === 'bad-credit-code') {
    const [first, ...rest] = entities;
    const spoiled = first ?? {
      credit_code: demoCompanies.jiaxing.creditCode,
      name: demoCompanies.jiaxing.name,
      org_type: demoCompanies.jiaxing.orgType,
      role: 'legal_representative' as const,
    };
    entities = [{ ...spoiled, credit_code: spoilCheckChar(spoiled.credit_code, creditAlphabet) }, ...rest];
  }
  return {
    sub: account.sub,
    name: account.name,
    cert_type: account.certType,
    cert_no: sim.mode === 'bad-id-number' ? spoilCheckChar(account.certNo, residentCheckChars) : account.certNo,
    ...(account.phone ? { phone_number: account.phone } : {}),
    cert_key: certKeyOf(account.certNo, account.name),
    entities,
  };
}

/** A person's live national sessions, by their record id. */
export function sessionsOf(sim: SimulatorState, username: string): Array<[string, NationalSession]> {
  const { sub } = accountState(sim, username).account;
  return sim.store.entries('Session')
    .filter(([, payload]) => payload.accountId === sub)
    .map(([id, payload]) => [id, {
      uid: String(payload.uid),
      sub,
      acr: payload.acr,
      amr: payload.amr ?? [],
      authTime: payload.loginTs,
      sids: Object.fromEntries(Object.entries(payload.authorizations ?? {})
        .flatMap(([clientId, a]) => (a.sid ? [[clientId, a.sid]] : []))),
    }]);
}

/** Drops pending face checks whose time is up. */
export function prunePending(sim: SimulatorState): void {
  const t = Date.now();
  for (const [uid, pending] of sim.pendingFace) if (pending.until < t) sim.pendingFace.delete(uid);
}
