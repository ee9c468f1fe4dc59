/**
 * Which sets of redirect URIs one app may register, as OpenID Connect Core 1.0 §8.1 reads them.
 * The pairwise sector of a URI is its *hostname* (ports do not count), and several hostnames need a
 * `sector_identifier_uri` listing every redirect URI — unless they belong to one organisation
 * (`www.hangzhou.gov.cn` for PCs, `m.hangzhou.gov.cn` for phones). tongban's pairwise sector is
 * the province anyway (broker/release/sectors.ts), so a person's `sub` stays one per province
 * whatever the hosts; the rules keep an app from collecting redirect URIs of organisations that
 * never agreed to be one app.
 */
import type { Mode } from '../../config/defaults.ts';
import { createGuardedFetch, type GuardedFetch } from '../platform/http/outbound.ts';
import { RegistryErrorCode, type Problem } from './errors.ts';

/** How many trailing labels two hostnames must share to be one organisation's (`hangzhou.gov.cn`). */
const organisationLabels = 3;
const sectorFetchTimeoutMs = 5_000;

/** The organisation a hostname belongs to: its last three labels (an IP address is its own). */
function organisationOf(hostname: string): string {
  if (/^[\d.]+$/.test(hostname) || hostname.startsWith('[')) return hostname;
  const labels = hostname.split('.');
  return labels.length <= organisationLabels ? hostname : labels.slice(-organisationLabels).join('.');
}

/**
 * The rule a set of redirect URIs breaks, or undefined. Without a `sector_identifier_uri` every
 * hostname must be of one organisation; with one, the fetched list decides (`verifySectorIdentifier`).
 */
export function redirectHostProblem(redirectUris: readonly string[], sectorIdentifierUri: string | undefined): Problem | undefined {
  if (sectorIdentifierUri !== undefined) return undefined;
  const hostnames = [...new Set(redirectUris.filter((uri) => URL.canParse(uri)).map((uri) => new URL(uri).hostname))];
  const organisations = new Set(hostnames.map(organisationOf));
  // A bare two-label domain (example.cn) and its www. are one organisation too.
  const parents = new Set(hostnames.map((h) => (h.split('.').length === organisationLabels && h.startsWith('www.') ? h.slice(4) : h)).map(organisationOf));
  if (organisations.size <= 1 || parents.size <= 1) return undefined;
  return {
    field: 'redirect_uris',
    code: RegistryErrorCode.invalidRedirectUri,
    message: `OIDC Core 8.1: redirect URIs on hosts of different organisations (${hostnames.join(', ')}) need a sector_identifier_uri `
      + `listing all of them; hosts of one organisation (same last ${organisationLabels} labels, e.g. www.hangzhou.gov.cn and m.hangzhou.gov.cn) `
      + 'and several ports of one host need none',
  };
}

/**
 * Fetches `sector_identifier_uri` (through the outbound-URL guard) and checks it is a JSON array
 * holding every redirect URI (OIDC Core 8.1, OIDC Registration §5). A problem says what is wrong.
 */
export async function verifySectorIdentifier(
  sectorIdentifierUri: string,
  redirectUris: readonly string[],
  mode: Mode,
  fetch: GuardedFetch = createGuardedFetch({ mode, timeoutMs: sectorFetchTimeoutMs }),
): Promise<Problem | undefined> {
  const refuse = (message: string): Problem => ({ field: 'sector_identifier_uri', code: RegistryErrorCode.invalidAppMetadata, message });
  let body: unknown;
  try {
    const response = await fetch(sectorIdentifierUri, { headers: { accept: 'application/json' }, redirect: 'manual' });
    if (response.status !== 200) return refuse(`OIDC Core 8.1: fetching it answered ${response.status}, not 200 with a JSON array of the redirect URIs`);
    body = JSON.parse(await response.text());
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'is not JSON' : `could not be fetched (${error instanceof Error ? error.message : 'error'})`;
    return refuse(`OIDC Core 8.1: it ${reason}; it must serve a JSON array of the redirect URIs`);
  }
  if (!Array.isArray(body) || body.some((v) => typeof v !== 'string')) return refuse('OIDC Core 8.1: it must serve a JSON array of URI strings');
  const missing = redirectUris.filter((uri) => !body.includes(uri));
  if (missing.length) return refuse(`OIDC Core 8.1: every redirect URI must be listed there; missing ${missing.join(', ')}`);
  return undefined;
}
