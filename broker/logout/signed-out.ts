/**
 * "Signed out means signed out" on a shared browser (service-hall self-service terminals, 自助通办).
 *
 * Signing out at the broker ends the broker session and sends the browser to the national
 * platform's own sign-out page, which asks "确认退出登录？". A person who walks away from that page
 * leaves the national session alive, and without this the next person at the terminal who presses
 * 登录 would come back signed in as them, with no password.
 *
 * So a sign-out leaves a marker in this browser (a signed cookie holding when it happened and what
 * became of the national session). While it is there, every login started in this browser asks the
 * national platform for a fresh authentication (`prompt=login`), and the return is accepted only
 * if the national `auth_time` is not older than the sign-out; a fresh login removes the marker.
 * The broker's signed-out page reads the same marker to say whether the national session ended too.
 */
import type { Context } from 'koa';

/** What became of the national session at the sign-out. */
export type NationalSignOut = 'ended' | 'pending' | 'unavailable';

export interface SignedOutMarker {
  /** Epoch seconds of the sign-out. */
  readonly at: number;
  readonly national: NationalSignOut;
}

/** Kept long enough for a terminal that stands idle; a fresh login removes it sooner. */
const markerMaxAgeMs = 30 * 24 * 3600 * 1000;
const states: readonly NationalSignOut[] = ['ended', 'pending', 'unavailable'];

const signedOutCookieName = (cookiePrefix: string) => `${cookiePrefix}_signed_out`;

export function readSignedOut(ctx: Context, cookiePrefix: string): SignedOutMarker | undefined {
  const value = ctx.cookies.get(signedOutCookieName(cookiePrefix), { signed: true });
  const match = value ? /^(\d{1,12})\.([a-z]+)$/.exec(value) : null;
  if (!match || !states.includes(match[2] as NationalSignOut)) return undefined;
  return { at: Number(match[1]), national: match[2] as NationalSignOut };
}

export function writeSignedOut(ctx: Context, cookiePrefix: string, marker: SignedOutMarker): void {
  ctx.cookies.set(signedOutCookieName(cookiePrefix), `${marker.at}.${marker.national}`, {
    path: '/', httpOnly: true, sameSite: 'lax', signed: true, secure: ctx.secure, maxAge: markerMaxAgeMs, overwrite: true,
  });
}

export function clearSignedOut(ctx: Context, cookiePrefix: string): void {
  ctx.cookies.set(signedOutCookieName(cookiePrefix), null, { path: '/', signed: true, overwrite: true });
}

/** Whether a national authentication at `authTime` (epoch seconds) came after the sign-out. */
export function isFreshAfter(marker: SignedOutMarker | undefined, authTime: number): boolean {
  return marker === undefined || authTime >= marker.at;
}

/** The signed-out page's plain statement about the national session, in both languages. */
export function nationalSignOutStatement(marker: SignedOutMarker | undefined): { zh: string; en: string } | undefined {
  switch (marker?.national) {
    case 'ended':
      return { zh: '国家政务服务平台的登录也已退出。', en: 'Your national government-service platform session has been ended too.' };
    case 'pending':
    case 'unavailable':
      return {
        zh: '国家政务服务平台的登录未确认退出。为保护您的账号，在此浏览器上的下一次登录将要求重新输入密码。',
        en: 'Ending your national platform session was not confirmed. To protect your account, the next sign-in in this browser will ask for your password again.',
      };
    default:
      return undefined;
  }
}
