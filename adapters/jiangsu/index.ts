/** 江苏's province adapter, as the adapter registry lists it. */
export { jiangsu } from './adapter.ts';
