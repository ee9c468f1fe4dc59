/**
 * 江苏 legacy ticket API (江苏政务服务网, in the style of a city platform's `auth/ticketValidate.do`):
 * `auth/login.do` sends a one-time ticket to the system's registered callback, and
 * `auth/ticketValidate.do` exchanges it for the person's fields in the Jiangsu dialect. Data and
 * pure functions; the broker serves it (broker/legacy/jiangsu.ts); docs/legacy.md documents it.
 */
import { createHash } from 'node:crypto';

/** Where the login entry sends the ticket: `ticket`, and the system's own return address as `return_url`. */
export const jiangsuLegacyLogin = {
  ticketParams: ['ticket'],
  returnParam: 'return_url',
} as const;

/** `code` values of `ticketValidate.do`. "0" is success; each failure has its own code. */
export const jiangsuLegacyResults = {
  ok: { code: '0', msg: '成功' },
  unknownApp: { code: '1001', msg: 'app_id 未注册或已停用 (unknown or suspended app_id)' },
  badSign: { code: '1002', msg: 'app_sign 校验失败 (wrong app_sign)' },
  staleTimestamp: { code: '1003', msg: 'timestamp 超出允许范围 (timestamp outside the accepted window)' },
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

