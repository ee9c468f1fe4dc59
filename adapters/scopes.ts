/**
 * The scopes that decide what a client receives about a person. The broker enforces which scopes
 * a client may be granted (`id_number` only for entitled apps); adapters only map.
 */
export const releaseScopes = ['openid', 'profile', 'phone', 'id_number', 'legal_person'] as const;
export type ReleaseScope = (typeof releaseScopes)[number];

export function isReleaseScope(value: unknown): value is ReleaseScope {
  return typeof value === 'string' && (releaseScopes as readonly string[]).includes(value);
}

/** What each scope stands for, in the words of a consent page. */
export const scopeDescriptions: Readonly<Record<ReleaseScope, { readonly en: string; readonly zh: string }>> = {
  openid: { en: 'that you signed in, and your user id on this platform', zh: '您已登录，以及您在本平台的用户标识' },
  profile: { en: 'your name, sex and date of birth', zh: '您的姓名、性别和出生日期' },
  phone: { en: 'your mobile phone number', zh: '您的手机号码' },
  id_number: { en: 'your identity document type and number', zh: '您的证件类型和证件号码' },
  legal_person: { en: 'the organisation you act for and your role there', zh: '您所代表的单位及您的身份（法定代表人或经办人）' },
};
