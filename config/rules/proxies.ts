/** The rule the `proxy.trusted` configuration key passes: each entry an IP address or CIDR range. */
import ipaddr from 'ipaddr.js';

/** Problems with a `proxy.trusted` list: each entry an IP address or CIDR range. */
export function trustedProxyProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return ['proxy.trusted: must be a list of IP addresses or CIDR ranges'];
  return value.flatMap((entry, i) => typeof entry === 'string' && (ipaddr.isValid(entry) || ipaddr.isValidCIDR(entry))
    ? []
    : [`proxy.trusted[${i}]: "${String(entry)}" is not an IP address or CIDR range`]);
}
