/**
 * Step 4 of the national return: after a sign-out in this browser (broker/logout/signed-out.ts) only
 * a national authentication newer than the sign-out is accepted, so the next person at a shared
 * terminal never inherits the previous one's national session; a fresh one removes the marker.
 */
import { describeError } from '../../platform/errors.ts';
import { showRefusal } from '../refusal-page.ts';
import { clearSignedOut, isFreshAfter, readSignedOut } from '../../logout/signed-out.ts';
import type { NationalReturnStep } from './flow.ts';
import { interactionResult } from './interaction-result.ts';

export const freshAfterSignOut: NationalReturnStep = async (flow, next) => {
  const { ctx, options } = flow;
  const prefix = options.cookiePrefix ?? 'tongban';
  const marker = readSignedOut(ctx, prefix);
  const authTime = flow.national!.identity.person.authTime;
  const signedOutAt = Math.max(marker?.at ?? 0, flow.pending!.signedOutAt ?? 0);
  if (signedOutAt > 0 && !isFreshAfter({ at: signedOutAt, national: 'pending' }, authTime)) {
    options.logger.warn('national_login_not_fresh', { interaction: flow.interaction!.uid });
    const back = await interactionResult(flow, {
      error: 'login_required', error_description: 'a fresh national authentication is required after a sign-out in this browser',
    });
    showRefusal(ctx, describeError('login_required'), back);
    return;
  }
  if (marker) clearSignedOut(ctx, prefix);
  await next();
};
