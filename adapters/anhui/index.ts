/** 安徽's province adapter, as the adapter registry lists it. */
export { anhui } from './adapter.ts';
