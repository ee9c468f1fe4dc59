/**
 * The key under which bearer credentials (tokens, codes, initial and registration access tokens)
 * become store keys: derived (HKDF) from the deployment secret, so it is never stored, differs per
 * deployment, and every node and tool that shares the store derives the same one.
 */
import { hkdfSync } from 'node:crypto';

export function storeIdKeyOf(deploymentSecret: string | Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', deploymentSecret, 'tongban', 'oidc store ids v1', 32));
}
