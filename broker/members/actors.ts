/**
 * Who changes the member records, and what each may do: a federation operator everything, a
 * province operator only within its province, the CLI user as a federation operator.
 */
import { userInfo } from 'node:os';
import { RegistryError, RegistryErrorCode } from './errors.ts';
import type { Actor } from './types.ts';

export type OperatorActor = Extract<Actor, { kind: 'operator' }>;

/** The person at the terminal, for the audit trail of CLI changes. */
export function cliActor(): Actor {
  let user = process.env.USER ?? process.env.USERNAME ?? 'unknown';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (some containers): keep the environment's name.
  }
  return { kind: 'cli', user };
}

function actorLabel(actor: Actor): string {
  switch (actor.kind) {
    case 'operator': return `operator ${actor.id} (${actor.role}${actor.province ? ` ${actor.province}` : ''})`;
    case 'cli': return `CLI user ${actor.user}`;
    case 'dynamic_registration': return `app ${actor.client_id} (dynamic registration)`;
    default: return actor.kind;
  }
}

/** Throws 403 unless the actor may act on things of `province`. */
export function assertProvince(actor: Actor, province: string, what: string): void {
  if (actor.kind === 'operator' && actor.role === 'province' && actor.province !== province) {
    throw new RegistryError(RegistryErrorCode.forbidden, `${actorLabel(actor)} may act only within province ${actor.province}; ${what} belongs to province ${province}`);
  }
}

export function assertFederation(actor: Actor, what: string): void {
  if (actor.kind === 'operator' && actor.role !== 'federation') {
    throw new RegistryError(RegistryErrorCode.forbidden, `only a federation operator may ${what}`);
  }
  if (actor.kind === 'dynamic_registration' || actor.kind === 'system') {
    throw new RegistryError(RegistryErrorCode.forbidden, `${actor.kind} may not ${what}`);
  }
}
