/**
 * 浙江 legacy ticket API (浙里办 / 浙江政务服务网): `sso/usp.do?action=ssoLogin` and
 * `sso/servlet/simpleauth` (`ticketValidation`, `getUserInfo`), as data and pure functions: the
 * parameter names, the signature, the time format, the result codes and the shape of the answers,
 * written against the legacy-protocol contract (adapters/legacy.ts); the broker's legacy core
 * serves it. docs/legacy.md is the reference for systems:
 *
 * - `GET /zj/sso/usp.do?action=ssoLogin&servicecode=…&goto=…` (or `redirectUrl=…`): the broker
 *   login, then a one-time ticket to the system's registered callback as `ticket` and `st`, with
 *   the return address echoed as `sp`.
 * - `POST` (form body; GET still answers) `/zj/sso/servlet/simpleauth?method=ticketValidation&servicecode&time&sign&st&datatype=json`
 *   and `method=getUserInfo&servicecode&time&sign&token&datatype=json`: JSON with `result`
 *   ("0" or a documented failure code) and `errmsg`.
 */
import { createHash } from 'node:crypto';
import {
  isReturnAddress, legacyServiceCodePattern, md5HexPattern, type LegacyBridgeApi, type LegacyFailure, type LegacyOutcome, type LegacyParams,
  type LegacyProtocol,
} from '../legacy.ts';
import type { ClaimValue } from '../claim-value.ts';

/** `result` codes of `simpleauth`. "0" is success; each failure has its own code. */
export const zhejiangLegacyResults = {
  ok: { result: '0', errmsg: '' },
  unknownService: { result: '6001', errmsg: 'servicecode 未注册或已停用 (unknown or suspended servicecode)' },
  badSign: { result: '6002', errmsg: 'sign 校验失败 (wrong sign)' },
  staleTime: { result: '6003', errmsg: 'time 超出允许范围 (time outside the accepted window)' },
  replayedSign: { result: '6007', errmsg: 'time 与 sign 已使用过，请每次调用重新签名 (time and sign already used: sign every call afresh)' },
  badTicket: { result: '6004', errmsg: 'ticket 无效、已使用或已过期 (ticket invalid, used or expired)' },
  badToken: { result: '6005', errmsg: 'token 无效或已过期 (token invalid or expired)' },
  malformed: { result: '6006', errmsg: '参数缺失或格式错误 (missing or malformed parameter)' },
  unavailable: { result: '6009', errmsg: '服务暂时不可用，请稍后再试 (temporarily unavailable)' },
  internal: { result: '6099', errmsg: '系统内部错误 (internal error)' },
} as const;
export type ZhejiangLegacyResult = keyof typeof zhejiangLegacyResults;

/**
 * `sign` = lower-case hex MD5 of `servicecode + servicepwd + time` (UTF-8).
 *
 * @example
 * zhejiangSign('jx-gjj', 'the-service-password', '20270101080000') // 32 hex characters
 */
export function zhejiangSign(servicecode: string, servicepwd: string, time: string): string {
  return createHash('md5').update(`${servicecode}${servicepwd}${time}`, 'utf8').digest('hex');
}

const chinaOffsetMs = 8 * 3600 * 1000;

/**
 * `time` is `yyyyMMddHHmmss` in China Standard Time (UTC+8). Returns epoch milliseconds, or
 * undefined when the text is not a real date and time in that format.
 */
export function parseZhejiangTime(time: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(time);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(utc);
  // Date.UTC rolls 2027-02-30 over to March; a rolled-over date is not a date.
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day
    || hour > 23 || minute > 59 || second > 59) return undefined;
  return utc - chinaOffsetMs;
}

/** The fields `ticketValidation` answers beside `token` (`orgcoding` is added by the bridge). */
export const zhejiangTicketFields = ['userid', 'loginname', 'username'] as const;

/**
 * The legacy API answers every field as text, as the platform does: `authlevel` "3", `idtype`
 * "1", `sex` "1". Lists (legal-person mandates) become comma-separated text.
 */
export function zhejiangLegacyFields(claims: Readonly<Record<string, ClaimValue>>, only?: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (only && !only.includes(name)) continue;
    out[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return out;
}

interface Answer extends LegacyOutcome {
  readonly result: ZhejiangLegacyResult;
  readonly fields?: Record<string, string>;
  readonly method?: 'ticketValidation' | 'getUserInfo';
}

async function simpleauth(params: LegacyParams, bridge: LegacyBridgeApi): Promise<Answer> {
  const method = params.get('method');
  if (method !== 'ticketValidation' && method !== 'getUserInfo') return { result: 'malformed', reason: 'method' };
  const datatype = params.get('datatype');
  if (datatype !== undefined && datatype.toLowerCase() !== 'json') return { result: 'malformed', reason: 'datatype' };
  const servicecode = params.get('servicecode') ?? '';
  const time = params.get('time') ?? '';
  const sign = params.get('sign') ?? '';
  const credential = params.get(method === 'ticketValidation' ? 'st' : 'token') ?? '';
  if (!legacyServiceCodePattern.test(servicecode)) return { result: 'malformed', reason: 'servicecode' };
  const signedAt = parseZhejiangTime(time);
  if (signedAt === undefined) return { result: 'malformed', reason: 'time' };
  if (!md5HexPattern.test(sign)) return { result: 'malformed', reason: 'sign' };
  if (!bridge.isCredential(credential)) return { result: 'malformed', reason: method === 'ticketValidation' ? 'st' : 'token' };

  const system = await bridge.caller(servicecode);
  if (!system) return { result: 'unknownService' };
  const known: Pick<Answer, 'service' | 'method'> = { service: system.serviceCode, method };
  if (!bridge.signatureMatches(zhejiangSign(servicecode, system.servicePassword, time), sign)) return { result: 'badSign', ...known };
  if (!bridge.withinWindow(signedAt)) return { result: 'staleTime', ...known };
  // Each (servicecode, time, sign) once: a captured pair cannot be combined with another st or token.
  if (!(await bridge.firstUse(servicecode, time, sign))) return { result: 'replayedSign', ...known };

  if (method === 'ticketValidation') {
    const redeemed = await system.redeemTicket(credential);
    if (!redeemed) return { result: 'badTicket', ...known };
    const token = await redeemed.issueToken();
    // `orgcoding`: the company's unified social credit code in a company login, empty for a person.
    const orgcoding = redeemed.claims.unifiedSocialId === undefined ? '' : String(redeemed.claims.unifiedSocialId);
    return { result: 'ok', ...known, fields: { token, ...zhejiangLegacyFields(redeemed.claims, zhejiangTicketFields), orgcoding } };
  }
  const found = await system.findToken(credential);
  if (!found) return { result: 'badToken', ...known };
  return { result: 'ok', ...known, fields: zhejiangLegacyFields(found.claims) };
}

/** 浙江's legacy protocol, as the broker's legacy core serves it. */
export const zhejiangLegacy: LegacyProtocol = {
  loginPath: '/zj/sso/usp.do',
  apiPath: '/zj/sso/servlet/simpleauth',
  serviceCodeParam: 'servicecode',
  ticketParams: ['ticket', 'st'],
  returnParam: 'sp',
  parseLogin(params) {
    if (params.get('action') !== 'ssoLogin') return { malformed: 'action is not ssoLogin' };
    const servicecode = params.get('servicecode') ?? '';
    if (!legacyServiceCodePattern.test(servicecode)) return { malformed: 'servicecode missing or malformed' };
    const goto = params.get('goto');
    const redirectUrl = params.get('redirectUrl');
    if (goto !== undefined && redirectUrl !== undefined && goto !== redirectUrl) return { malformed: 'goto and redirectUrl differ' };
    const returnAddress = goto ?? redirectUrl;
    if (returnAddress !== undefined && !isReturnAddress(returnAddress)) return { malformed: 'return address malformed' };
    return { serviceCode: servicecode, returnAddress };
  },
  call: simpleauth,
  respond(outcome: Answer | LegacyFailure) {
    const { result, errmsg } = zhejiangLegacyResults[outcome.result];
    return { code: result, method: 'method' in outcome ? outcome.method : undefined, body: { result, errmsg, ...('fields' in outcome ? outcome.fields : {}) } };
  },
};
