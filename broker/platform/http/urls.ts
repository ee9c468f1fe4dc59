/** Loopback hosts: the only ones where plain http is accepted (the rule lives with the configuration's). */
export { isLoopbackHost, isLoopbackUrl } from '../../../config/rules/urls.ts';
