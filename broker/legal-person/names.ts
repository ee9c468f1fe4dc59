/** The names a portal and the interaction routes share. */
import { routePath, routes } from '../../config/defaults.ts';

/** The scope a portal asks for to log in as a company. */
export const legalPersonScope = 'legal_person';

/** The interaction prompt of the company choice; `prompt=select_account` requests it explicitly. */
export const companyPromptName = 'select_account';

/** Where the choice page lives (under the interaction cookie's path). */
export function companyChoicePath(interactionUid: string): string {
  return routePath(routes.interaction.company, interactionUid);
}
