/**
 * URL rules shared by the configuration and the run-time registries: plain http only on loopback
 * hosts (and only in development), redirect-style URLs matched exactly.
 */
/** Loopback hosts: the only ones where plain http is accepted, and only in development. */
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopbackHost(url: URL): boolean {
  return loopbackHosts.has(url.hostname);
}

/** Whether a string is a URL on a loopback host. */
export function isLoopbackUrl(value: string): boolean {
  const url = URL.parse(value);
  return url !== null && isLoopbackHost(url);
}

/**
 * What is wrong with one URL an app gives (redirect, post-logout, back-channel, jwks), or
 * undefined: absolute, no fragment, wildcard, white space or credentials; https, except loopback
 * http in development.
 */
export function appUrlProblem(value: unknown, mode: 'development' | 'production'): string | undefined {
  if (typeof value !== 'string' || value === '') return 'must be a URL';
  if (value.length > 2000) return 'is longer than 2000 characters';
  if (value.includes('#')) return `"${value}" has a fragment; URIs are matched exactly and may not carry one`;
  if (value.includes('*')) return `"${value}" has a wildcard; URIs are matched exactly`;
  if (/\s/.test(value)) return `"${value}" contains white space`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URL`;
  }
  if (url.username || url.password) return `"${value}" carries user credentials`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url)) return `"${value}" must use https (http only for loopback addresses in development)`;
    if (mode !== 'development') return `"${value}" must use https: loopback http is only allowed in development`;
    return undefined;
  }
  return `"${value}" must be an https URL`;
}
