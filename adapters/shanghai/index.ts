/** 上海's province adapter, as the adapter registry lists it. */
export { shanghai } from './adapter.ts';
