/**
 * Opens the broker's audit trail from its configuration: the suite from `crypto.suite`, the
 * checkpoint signer from the store's key (generated there on first use, like the other development
 * keys). Broker nodes and the audit CLI both open it this way, so they agree on suite and signer.
 */
import type { TongbanConfig } from '../../config/defaults.ts';
import { checkpointSigner, loadStoredCheckpointKey } from '../platform/crypto/checkpoint-keys.ts';
import { cryptoSuite } from '../platform/crypto/suite.ts';
import type { Store } from '../platform/storage/types.ts';
import { createAuditTrail, type AuditTrail } from './trail.ts';

export interface OpenedAuditTrail {
  readonly trail: AuditTrail;
  /** The public key of this deployment's checkpoint signer: the one `verify` trusts. */
  readonly signerPublicKey: string;
}

export async function openAuditTrail(config: Pick<TongbanConfig, 'crypto'>, store: Store): Promise<OpenedAuditTrail> {
  const suite = cryptoSuite(config.crypto?.suite ?? 'international');
  const signer = checkpointSigner(await loadStoredCheckpointKey(store, suite.name));
  return { trail: createAuditTrail({ store, suite, signer }), signerPublicKey: signer.publicKey };
}
