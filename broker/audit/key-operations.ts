/**
 * Key operations on the audit trail: signing-key rotate/promote/retire, data-key rotation and new
 * checkpoint keys are admin changes like any other (`details.area` "keys"). Entries name keys by
 * their ids only (generation ids, `kid`s, data key ids, a checkpoint key's fingerprint), never
 * key material.
 */
import { createHash } from 'node:crypto';
import type { CheckpointKey } from '../platform/crypto/checkpoint-keys.ts';
import type { AuditEntry } from './entry.ts';
import type { AuditTrail } from './trail.ts';

export type KeyOperation =
  | 'key.signing.rotate' | 'key.signing.promote' | 'key.signing.retire'
  | 'key.data.rotate' | 'key.checkpoint.new';

/** A signing key ring as the trail sees it: generations with their state and public kids. */
export interface SigningRingView {
  readonly version: number;
  readonly generations: ReadonlyArray<{ readonly id: string; readonly state: string; readonly keys: ReadonlyArray<{ readonly kid?: string }> }>;
}

/** The ids of a ring, for an entry: no key material. */
export function signingRingIds(ring: SigningRingView): Record<string, unknown> {
  return {
    version: ring.version,
    generations: ring.generations.map((g) => ({ id: g.id, state: g.state, kids: g.keys.map((key) => key.kid).filter(Boolean) })),
  };
}

/** A checkpoint key's id: the first 16 hex digits of the SHA-256 of its public key. */
export function checkpointKeyId(key: CheckpointKey): string {
  const publicKey = key.suite === 'gm'
    ? key.publicKey
    : JSON.stringify({ kty: key.publicJwk.kty, crv: key.publicJwk.crv, x: key.publicJwk.x, y: key.publicJwk.y });
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

/** Appends one key operation as an admin entry. `actor`: an id such as `cli:<user>`. */
export function recordKeyOperation(trail: AuditTrail, operation: KeyOperation, actor: string, details: Readonly<Record<string, unknown>>): Promise<AuditEntry> {
  return trail.append({ type: 'admin', action: operation, actor, details: { area: 'keys', ...details } });
}
