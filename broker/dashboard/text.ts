/**
 * Every wording of the dashboard in one { zh, en } table (zh-CN first, English beside it), so it can
 * move into the broker's message catalogue (broker/platform/i18n) as one piece.
 */
export const dashboardText = {
  title: { zh: '通办运营看板', en: 'tongban operator dashboard' },
  signIn: { zh: '运营人员登录', en: 'Operator sign-in' },
  operatorKey: { zh: '运营密钥', en: 'Operator key' },
  signInButton: { zh: '登录', en: 'Sign in' },
  signOut: { zh: '退出', en: 'Sign out' },
  wrongKey: { zh: '运营密钥无效或已吊销。', en: 'The operator key is wrong or revoked.' },
  expired: { zh: '看板会话已过期，请重新登录。', en: 'The dashboard session has expired; sign in again.' },
  forged: { zh: '表单校验失败（可能是伪造的请求），未做任何更改。', en: 'The form did not carry this session\'s token (a forged request?); nothing was changed.' },
  refused: { zh: '操作被拒绝，未做任何更改。', en: 'Refused; nothing was changed.' },
  signedInAs: { zh: '当前运营人员', en: 'Signed in as' },
  scopeFederation: { zh: '全联盟', en: 'whole federation' },
  scopeProvince: { zh: '省份', en: 'province' },
  lastHour: { zh: '最近一小时（每分钟登录）', en: 'Last hour (logins per minute)' },
  lastDay: { zh: '最近一天（每小时登录）', en: 'Last day (logins per hour)' },
  logins: { zh: '登录总数', en: 'logins' },
  reasons: { zh: '失败原因', en: 'Failure reasons' },
  byProvince: { zh: '按省份', en: 'By province' },
  byCity: { zh: '按城市', en: 'By city' },
  logoutQueue: { zh: '后端通道退出队列', en: 'Back-channel logout queue' },
  queueEmpty: { zh: '队列为空', en: 'nothing waiting' },
  cities: { zh: '城市与应用', en: 'Cities and apps' },
  suspend: { zh: '暂停', en: 'Suspend' },
  resume: { zh: '恢复', en: 'Resume' },
  rotate: { zh: '轮换密钥', en: 'Rotate secret' },
  newSecret: { zh: '新的客户端密钥（只显示这一次）', en: 'New client secret (shown this once)' },
  done: { zh: '已完成', en: 'Done' },
  back: { zh: '返回看板', en: 'Back to the dashboard' },
  audit: { zh: '审计记录', en: 'Audit trail' },
  auditVerified: { zh: '哈希链校验通过', en: 'hash chain verified' },
  auditBroken: { zh: '哈希链校验失败', en: 'hash chain broken' },
  auditNotChecked: { zh: '未接入哈希链审计', en: 'hash-chained trail not wired in' },
} as const satisfies Record<string, { readonly zh: string; readonly en: string }>;

export type DashboardTextKey = keyof typeof dashboardText;
