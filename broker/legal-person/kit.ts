/**
 * What the parts of legal-person logins share: the records, the clock, and the small rules every
 * part applies the same way (which scope asks for a company, which representation a code names).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Representation } from '../identity/model.ts';
import type { LegalPersonsOptions } from './contract.ts';
import { legalPersonScope } from './names.ts';
import { createLegalPersonRecords, type LegalPersonRecords, type SessionRecord } from './records.ts';

/** Within one authorization (its redirects through login, choice and consent) one national answer serves. */
export const withinFlowSeconds = 60;

export type Confirmation = { readonly record: SessionRecord } | { readonly unverifiable: string };

export function hasScope(scope: string | undefined, wanted: string): boolean {
  return typeof scope === 'string' && scope.split(' ').includes(wanted);
}

/** The representation for a credit code, a legal representative's before an agent's. */
export function pick(eligible: readonly Representation[], creditCode: string): Representation | undefined {
  const matches = eligible.filter((r) => r.creditCode === creditCode);
  return matches.find((r) => r.role === 'legal_representative') ?? matches[0];
}

export function refused(description: string): errors.OIDCProviderError {
  return new errors.CustomOIDCProviderError('invalid_grant', description);
}

export interface LegalPersonKit {
  readonly options: LegalPersonsOptions;
  readonly records: LegalPersonRecords;
  /** Epoch seconds now. */
  nowSeconds(): number;
  /** Seconds a session record has left (at least one). */
  remaining(record: SessionRecord): number;
  wantsLegalPerson(ctx: KoaContextWithOIDC): boolean;
  saveChoice(sessionUid: string, record: SessionRecord, acting: Representation): Promise<SessionRecord>;
}

export function createLegalPersonKit(options: LegalPersonsOptions): LegalPersonKit {
  const records = createLegalPersonRecords(options.store, options.sealer);
  const nowSeconds = () => Math.floor((options.now ?? Date.now)() / 1000);
  const remaining = (record: SessionRecord) => Math.max(1, record.until - nowSeconds());
  const wantsLegalPerson = (ctx: KoaContextWithOIDC) => ctx.oidc.requestParamScopes.has(legalPersonScope);

  async function saveChoice(sessionUid: string, record: SessionRecord, acting: Representation): Promise<SessionRecord> {
    const updated: SessionRecord = { ...record, choice: { creditCode: acting.creditCode, role: acting.role, chosenAt: nowSeconds() } };
    await records.saveSession(sessionUid, updated, remaining(updated));
    return updated;
  }

  return { options, records, nowSeconds, remaining, wantsLegalPerson, saveChoice };
}
