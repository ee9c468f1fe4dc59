/**
 * What the legacy bridges need of legal persons (broker/legal-person's `LegalPersons` has these),
 * named here because broker/legacy may not import broker/legal-person: a company login's ticket
 * carries the company its authorization was bound to, and every redemption confirms the mandate
 * with the national platform through the same check as the OIDC side (docs/legal-persons.md).
 */
import type { LegalPerson } from '../identity/model.ts';

export interface LegacyCompanies {
  /** The company a grant was bound to at its authorization, if any. */
  actingForGrant(grantId: string): Promise<{ readonly creditCode: string } | undefined>;
  /** Confirms with the national platform, now; throws a TongbanError when the mandate is not current. */
  checkActing(request: { readonly sessionUid: string; readonly creditCode?: string }): Promise<LegalPerson>;
}
