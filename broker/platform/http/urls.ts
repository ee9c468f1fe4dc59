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
