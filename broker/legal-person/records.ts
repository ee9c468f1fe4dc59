/**
 * What the broker keeps for legal-person logins, all in the shared store and none of it longer
 * than the session or grant it belongs to (no register of people, no register of companies):
 *
 * - `legal-person:login:<interaction uid>`: a national login between the national callback and the
 *   resumed authorization, which is where the broker session is known (interaction lifetime).
 * - `legal-person:session:<session uid>`: the national access token, the organisations the national
 *   platform last listed, when it said so, and the person's choice (session lifetime).
 * - `legal-person:grant:<grant id>`: the organisation a grant acts for. Tokens carry their grant id,
 *   so the code, the tokens and every rotated refresh token of one authorization act for the company
 *   chosen then, even after the person chooses another one for another app (grant lifetime).
 *
 * All three are sealed under the data key (docs/privacy.md): they hold the national access token,
 * company names and credit codes.
 */
import type { Representation, RepresentationRole } from '../identity/model.ts';
import { createSealedRecords } from '../platform/crypto/sealed-records.ts';
import type { Sealer } from '../platform/crypto/sealing.ts';
import type { Store } from '../platform/storage/types.ts';

/** The national side of a session: what the broker needs to ask the national platform again. */
export interface NationalEntitlements {
  /** The broker account id (keyed hash of the national subject). */
  readonly accountId: string;
  /** Needed to check the national userinfo answer is about the same person. */
  readonly nationalSubject: string;
  readonly nationalAccessToken: string;
  /** Epoch seconds, when known. */
  readonly nationalAccessTokenExpiresAt?: number;
  /** Everything the national platform listed, expired mandates included (it keeps listing them). */
  readonly representations: readonly Representation[];
  /** Epoch seconds of that national answer. */
  readonly checkedAt: number;
}

export interface CompanyChoice {
  readonly creditCode: string;
  readonly role: RepresentationRole;
  /** Epoch seconds. */
  readonly chosenAt: number;
}

export interface SessionRecord extends NationalEntitlements {
  /** Epoch seconds: the record ends with the session it belongs to, rewrites included. */
  readonly until: number;
  readonly choice?: CompanyChoice;
}

export interface GrantBinding {
  readonly sessionUid: string;
  readonly accountId: string;
  readonly acting: Representation;
  /** Epoch seconds. */
  readonly boundAt: number;
}

const loginKey = (interactionUid: string) => `legal-person:login:${interactionUid}`;
const sessionKey = (sessionUid: string) => `legal-person:session:${sessionUid}`;
const grantKey = (grantId: string) => `legal-person:grant:${grantId}`;

export interface LegalPersonRecords {
  savePendingLogin(interactionUid: string, entitlements: NationalEntitlements, ttlSeconds: number): Promise<void>;
  /** Returns and removes the pending login of an interaction (one-time). */
  takePendingLogin(interactionUid: string): Promise<NationalEntitlements | undefined>;
  session(sessionUid: string): Promise<SessionRecord | undefined>;
  saveSession(sessionUid: string, record: SessionRecord, ttlSeconds: number): Promise<void>;
  removeSession(sessionUid: string): Promise<void>;
  binding(grantId: string): Promise<GrantBinding | undefined>;
  saveBinding(grantId: string, binding: GrantBinding, ttlSeconds: number): Promise<void>;
  removeBinding(grantId: string): Promise<void>;
}

export function createLegalPersonRecords(store: Store, sealer: Sealer): LegalPersonRecords {
  const ms = (seconds: number) => Math.max(1, Math.floor(seconds)) * 1000;
  const sealed = createSealedRecords(store, sealer);
  const context = 'legal-person';
  return {
    async savePendingLogin(uid, entitlements, ttl) {
      await sealed.set(loginKey(uid), entitlements, context, ms(ttl));
    },
    async takePendingLogin(uid) {
      const found = await sealed.get<NationalEntitlements>(loginKey(uid), context);
      if (found) await sealed.delete(loginKey(uid));
      return found;
    },
    session: (uid) => sealed.get<SessionRecord>(sessionKey(uid), context),
    async saveSession(uid, record, ttl) {
      await sealed.set(sessionKey(uid), record, context, ms(ttl));
    },
    async removeSession(uid) {
      await sealed.delete(sessionKey(uid));
    },
    binding: (grantId) => sealed.get<GrantBinding>(grantKey(grantId), context),
    async saveBinding(grantId, binding, ttl) {
      await sealed.set(grantKey(grantId), binding, context, ms(ttl));
    },
    async removeBinding(grantId) {
      await sealed.delete(grantKey(grantId));
    },
  };
}
