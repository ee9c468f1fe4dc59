/**
 * The words of the demo 公积金 service's 材料免交 desk, { zh, en } each (the portal's table,
 * scripts/dev/demo-portal/messages.ts, holds the shared ones and the language choice).
 */
import type { DemoLanguage } from '../demo-portal/messages.ts';
import { wordingIn, type Wording } from '../wording.ts';

export const deskMessages = {
  site: { zh: '上海市住房公积金管理中心（演示）', en: 'Shanghai Housing Provident Fund Centre (demo)' },
  title: { zh: '提取住房公积金 · 材料免交', en: 'Withdraw your housing fund — no papers to upload' },
  intro: { zh: '提取公积金通常要上传：', en: 'A withdrawal usually needs you to upload:' },
  needIdCard: { zh: '居民身份证正反面照片', en: 'photos of both sides of your resident identity card' },
  needHousehold: { zh: '居民户口簿首页和本人页复印件', en: 'copies of the first page and your own page of the household register' },
  instead: { zh: '通过通办，本中心可以在您同意后直接从国家电子证照库调取这两份电子证照，并自行核验签发机关的签名。', en: 'Through tongban, with your consent, this centre fetches both electronic licences from the national licence library and checks the issuing authority\'s signature itself.' },
  start: { zh: '用通办登录并授权调取电子证照', en: 'Sign in with tongban and allow the licences' },
  received: { zh: '已收到并核验的电子证照', en: 'Electronic licences received and verified' },
  licence: { zh: '证照', en: 'Licence' },
  issuer: { zh: '签发机关', en: 'Issued by' },
  number: { zh: '证照编号（部分隐藏）', en: 'Number (partly hidden)' },
  validity: { zh: '有效期', en: 'Valid' },
  check: { zh: '核验结果', en: 'Check' },
  verified: { zh: '签名有效、持证人为本人、在有效期内、未被吊销', en: 'signature valid, held by you, in date, not revoked' },
  notVerified: { zh: '未通过核验', en: 'not verified' },
  howVerified: { zh: '核验由本中心用 tongban/verify 完成：签发机关在国家电子证照库公布的公钥、持证人与登录身份的证件号码、有效期和吊销名单。通办只转交签发机关签名的原件，不保存证照。', en: 'This centre verified them with tongban/verify: the authority\'s key published by the national licence library, the holder against your login\'s ID number, the dates and the revocation list. tongban passed the signed originals on and kept nothing.' },
  notUploadedTitle: { zh: '您不需要上传的材料', en: 'What you did not have to upload' },
  noIdPhoto: { zh: '身份证正反面照片（已由电子身份证照代替）', en: 'photos of your ID card (the electronic licence replaces them)' },
  noHouseholdCopy: { zh: '户口簿首页和本人页复印件（已由电子户口簿代替）', en: 'copies of your household register (the electronic licence replaces them)' },
  noCounter: { zh: '也不需要到窗口核对原件', en: 'nor a visit to the counter to show the originals' },
  kept: { zh: '本中心只在本次办理中使用这些证照；您可以在通办的账户页撤回授权。', en: 'The centre uses them for this application only; you can withdraw your consent on your tongban account page.' },
  someMissing: { zh: '有电子证照未能核验或未获授权，请按页面提示重新授权，或改为上传材料。', en: 'A licence could not be verified or was not allowed; allow it again, or upload the papers instead.' },
  fetchFailed: { zh: '暂时无法调取电子证照（{code}）。您可以稍后再试。', en: 'The licences could not be fetched ({code}). Please try again later.' },
  again: { zh: '重新授权', en: 'Allow again' },
  home: { zh: '返回首页', en: 'Back to the start' },
  account: { zh: '在通办查看和撤回授权', en: 'Your consents at tongban' },
  deadEnd: { zh: '这次办理没有完成', en: 'This application did not finish' },
  noLogin: { zh: '这个登录链接已经用过或已过期（例如刷新了页面或使用了“后退”）。', en: 'This sign-in link was already used or has expired (for example after reloading or going Back).' },
  tampered: { zh: '登录回传的校验值与本中心发出的不一致，为安全起见没有接受。', en: 'The sign-in came back with a check value this centre did not send; it was not accepted.' },
  cancelled: { zh: '您已取消登录或没有同意调取证照，没有任何信息交给本中心。', en: 'You cancelled or did not allow the licences; nothing was passed to this centre.' },
  failed: { zh: '登录未能完成，请重新开始。', en: 'The sign-in could not finish; please start again.' },
} as const satisfies Record<string, Wording>;

export type DeskKey = keyof typeof deskMessages;

export function deskText(language: DemoLanguage, key: DeskKey): string {
  return wordingIn(deskMessages[key], language);
}
