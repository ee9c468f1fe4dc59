/** 浙江's province adapter, as the adapter registry lists it. */
export { zhejiang } from './adapter.ts';
