/** The template, as the adapter registry lists it. */
export { template } from './adapter.ts';
