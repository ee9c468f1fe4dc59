/** Single logout's public surface: the RP-initiated and national back-channel logout, and its hooks. */
export {
  createSingleLogout, nationalBackchannelLogoutPath, nationalLoggedOutPath, type EndedSession, type NationalLogin, type SessionEndedHook,
  type SingleLogout, type SingleLogoutOptions,
} from './single-logout.ts';
