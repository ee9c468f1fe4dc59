/**
 * 江苏 legacy ticket API (江苏政务服务网, in the style of a city platform's `auth/ticketValidate.do`):
 * `auth/login.do` sends a one-time ticket to the system's registered callback, and
 * `auth/ticketValidate.do` exchanges it for the person's fields in the Jiangsu dialect. Data and
 * pure functions written against the legacy-protocol contract (adapters/legacy.ts); the broker's
 * legacy core serves it; docs/legacy.md documents it:
 *
 * - `GET /js/auth/login.do?app_id=…&return_url=…`: the broker login, then a one-time `ticket` to
 *   the app's registered callback, with `return_url` echoed.
 * - `POST` (form body; GET still answers) `/js/auth/ticketValidate.do` with `app_id`, `timestamp`, `app_sign`, `ticket`: JSON
 *   `{ code, msg, data }`, `data` holding the person in the Jiangsu dialect.
 */
import { createHash } from 'node:crypto';
import {
  isReturnAddress, legacyServiceCodePattern, md5HexPattern, type LegacyBridgeApi, type LegacyFailure, type LegacyOutcome, type LegacyParams,
  type LegacyProtocol,
} from '../legacy.ts';
import type { ClaimValue } from '../claim-value.ts';

/** `code` values of `ticketValidate.do`. "0" is success; each failure has its own code. */
export const jiangsuLegacyResults = {
  ok: { code: '0', msg: '成功' },
  unknownApp: { code: '1001', msg: 'app_id 未注册或已停用 (unknown or suspended app_id)' },
  badSign: { code: '1002', msg: 'app_sign 校验失败 (wrong app_sign)' },
  staleTimestamp: { code: '1003', msg: 'timestamp 超出允许范围 (timestamp outside the accepted window)' },
  replayedSign: { code: '1007', msg: 'timestamp 与 app_sign 已使用过，请每次调用重新签名 (timestamp and app_sign already used: sign every call afresh)' },
  badTicket: { code: '1004', msg: 'ticket 无效、已使用或已过期 (ticket invalid, used or expired)' },
  malformed: { code: '1006', msg: '参数缺失或格式错误 (missing or malformed parameter)' },
  unavailable: { code: '1009', msg: '服务暂时不可用，请稍后再试 (temporarily unavailable)' },
  internal: { code: '1099', msg: '系统内部错误 (internal error)' },
} as const;
export type JiangsuLegacyResult = keyof typeof jiangsuLegacyResults;

/**
 * `app_sign` = lower-case hex MD5 of `app_id + app_secret + timestamp` (UTF-8), where
 * `timestamp` is the Unix time in milliseconds as 13 decimal digits.
 *
 * @example
 * jiangsuSign('sz-gjj', 'the-app-secret', '1798761600000') // 32 hex characters
 */
export function jiangsuSign(appId: string, appSecret: string, timestamp: string): string {
  return createHash('md5').update(`${appId}${appSecret}${timestamp}`, 'utf8').digest('hex');
}

/** Epoch milliseconds of a `timestamp`, or undefined unless it is 13 decimal digits. */
export function parseJiangsuTimestamp(timestamp: string): number | undefined {
  return /^\d{13}$/.test(timestamp) ? Number(timestamp) : undefined;
}


interface Answer extends LegacyOutcome {
  readonly result: JiangsuLegacyResult;
  readonly data?: Readonly<Record<string, ClaimValue>>;
}

async function ticketValidate(params: LegacyParams, bridge: LegacyBridgeApi): Promise<Answer> {
  const appId = params.get('app_id') ?? '';
  const timestamp = params.get('timestamp') ?? '';
  const appSign = params.get('app_sign') ?? '';
  const ticket = params.get('ticket') ?? '';
  if (!legacyServiceCodePattern.test(appId)) return { result: 'malformed', reason: 'app_id' };
  const signedAt = parseJiangsuTimestamp(timestamp);
  if (signedAt === undefined) return { result: 'malformed', reason: 'timestamp' };
  if (!md5HexPattern.test(appSign)) return { result: 'malformed', reason: 'app_sign' };
  if (!bridge.isCredential(ticket)) return { result: 'malformed', reason: 'ticket' };

  const system = await bridge.caller(appId);
  if (!system) return { result: 'unknownApp' };
  const service = system.serviceCode;
  if (!bridge.signatureMatches(jiangsuSign(appId, system.servicePassword, timestamp), appSign)) return { result: 'badSign', service };
  if (!bridge.withinWindow(signedAt)) return { result: 'staleTimestamp', service };
  // Each (app_id, timestamp, app_sign) once: a captured pair cannot be combined with another ticket.
  if (!(await bridge.firstUse(appId, timestamp, appSign))) return { result: 'replayedSign', service };
  const redeemed = await system.redeemTicket(ticket);
  if (!redeemed) return { result: 'badTicket', service };
  return { result: 'ok', service, data: redeemed.claims };
}

/** 江苏's legacy protocol, as the broker's legacy core serves it. */
export const jiangsuLegacy: LegacyProtocol = {
  loginPath: '/js/auth/login.do',
  apiPath: '/js/auth/ticketValidate.do',
  serviceCodeParam: 'app_id',
  ticketParams: ['ticket'],
  returnParam: 'return_url',
  parseLogin(params) {
    const appId = params.get('app_id') ?? '';
    if (!legacyServiceCodePattern.test(appId)) return { malformed: 'app_id missing or malformed' };
    const returnUrl = params.get('return_url');
    if (returnUrl !== undefined && !isReturnAddress(returnUrl)) return { malformed: 'return_url malformed' };
    return { serviceCode: appId, returnAddress: returnUrl };
  },
  call: ticketValidate,
  respond(outcome: Answer | LegacyFailure) {
    const { code, msg } = jiangsuLegacyResults[outcome.result];
    return { code, method: 'ticketValidate', body: { code, msg, ...('data' in outcome && outcome.data ? { data: outcome.data } : {}) } };
  },
};
