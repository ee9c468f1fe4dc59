/**
 * Fail closed: development mode (generated keys, plain http, the simulator's secret) is never a
 * default, and never serves something that looks deployed. An https issuer, a listener off
 * loopback or a store off this machine without real keys is refused, naming what to set.
 */
import type { TongbanConfig } from '../defaults.ts';

const loopbackHostnames = new Set(['localhost', '::1', '[::1]']);

/** Whether a host name or address is this machine (127.0.0.0/8, ::1, localhost). */
function isLoopbackHostname(host: string): boolean {
  return loopbackHostnames.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Whether the store keeps its data on this machine: memory:, sqlite:, Redis or PostgreSQL on loopback. */
export function isLocalStore(store: string): boolean {
  if (store.startsWith('memory:') || store.startsWith('sqlite:')) return true;
  if (store.startsWith('redis+cluster://')) {
    const hosts = store.slice('redis+cluster://'.length).split('/')[0]!.split(',');
    return hosts.every((entry) => {
      const url = URL.parse(`redis://${entry.trim()}`);
      return url !== null && isLoopbackHostname(url.hostname);
    });
  }
  const url = URL.parse(store);
  return url !== null && url.hostname !== '' && isLoopbackHostname(url.hostname);
}

/** The problem when no mode was chosen: it is never assumed. */
export const modeNotChosen = 'mode: not set; choose one explicitly: TONGBAN_MODE=production (real keys, https) or TONGBAN_MODE=development '
  + '(generated keys, loopback http; a local trial only), or "mode" in the TONGBAN_CONFIG file';

/** The keys development mode would generate, each with the variable that sets it. */
const realKeys: ReadonlyArray<[keyof TongbanConfig['keys'], string]> = [
  ['signingKeysFile', 'TONGBAN_SIGNING_KEYS_FILE'],
  ['cookieKeys', 'TONGBAN_COOKIE_KEYS'],
  ['subjectSecret', 'TONGBAN_SUBJECT_SECRET'],
  ['dataKeys', 'TONGBAN_DATA_KEY'],
];

/**
 * In development mode: why this configuration looks deployed (https issuer, listener off loopback,
 * store off this machine), and for each missing real key a problem saying what to set.
 */
export function developmentExposureProblems(config: TongbanConfig): string[] {
  if (config.mode !== 'development') return [];
  const exposed: string[] = [];
  if (typeof config.issuer === 'string' && config.issuer.startsWith('https://')) exposed.push(`the issuer is https (${config.issuer})`);
  if (typeof config.listen?.host === 'string' && !isLoopbackHostname(config.listen.host)) exposed.push(`the listener is not loopback (${config.listen.host})`);
  if (typeof config.store === 'string' && !isLocalStore(config.store)) exposed.push('the store is not on this machine');
  if (exposed.length === 0) return [];
  const keys = config.keys ?? ({} as TongbanConfig['keys']);
  const missing = realKeys.filter(([key]) => {
    const value = keys[key];
    return Array.isArray(value) ? value.length === 0 : !value;
  });
  return missing.map(([key, variable]) => `keys.${key}: required because ${exposed.join(' and ')}: set ${variable} `
    + '(development mode generates keys only for a local trial; a deployment runs TONGBAN_MODE=production)');
}
