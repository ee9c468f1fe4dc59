/**
 * Opens the broker's audit trail from its configuration: the suite from `crypto.suite`, the
 * checkpoint signer from `keys.auditCheckpointKeyFile` (production: a key outside the store, so
 * write access to the store cannot re-sign a rewritten trail) or, without one, from the store's
 * key (generated there on first use, like the other development keys). Broker nodes and the CLIs
 * open it this way, so they agree on suite and signer.
 */
import type { TongbanConfig } from '../../config/defaults.ts';
import { checkpointSigner, loadCheckpointKeyFile, loadStoredCheckpointKey } from '../platform/crypto/checkpoint-keys.ts';
import { cryptoSuite } from '../platform/crypto/suite.ts';
import type { Store } from '../platform/storage/types.ts';
import { createAuditTrail, type AuditTrail } from './trail.ts';

export interface OpenedAuditTrail {
  readonly trail: AuditTrail;
  /** The public key of this deployment's checkpoint signer: the one `verify` trusts. */
  readonly signerPublicKey: string;
}

export async function openAuditTrail(config: Pick<TongbanConfig, 'crypto'> & { readonly keys?: Pick<TongbanConfig['keys'], 'auditCheckpointKeyFile'> }, store: Store): Promise<OpenedAuditTrail> {
  const suite = cryptoSuite(config.crypto?.suite ?? 'international');
  const file = config.keys?.auditCheckpointKeyFile;
  const signer = checkpointSigner(file ? loadCheckpointKeyFile(file, suite.name) : await loadStoredCheckpointKey(store, suite.name));
  return { trail: createAuditTrail({ store, suite, signer }), signerPublicKey: signer.publicKey };
}
