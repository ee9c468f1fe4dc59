/** The `logout` settings the delivery queue runs with; their rules live with the configuration. */
export type { LogoutSettings } from '../../config/rules/logout.ts';
