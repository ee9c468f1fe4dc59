/**
 * Operators of the federation and their API keys (`tbo_<id>_<secret>`, stored as keyed hashes):
 * only a federation operator adds, lists, revokes them or rotates their keys.
 */
import { randomBytes } from 'node:crypto';
import { isDivisionCode, provinceOf } from '../identity/identifiers.ts';
import { assertFederation, type OperatorActor } from './actors.ts';
import { problem } from './checks.ts';
import type { MemberContext } from './context.ts';
import { RegistryError, RegistryErrorCode, type Problem } from './errors.ts';
import { isPrintable } from './policy.ts';
import type { Actor, Operator, OperatorRole } from './types.ts';
import { operatorView, type OperatorView } from './views.ts';

const apiKeyPattern = /^tbo_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface OperatorOperations {
  addOperator(actor: Actor, input: { readonly name?: unknown; readonly role?: unknown; readonly province?: unknown }): Promise<{ readonly operator: OperatorView; readonly api_key: string }>;
  listOperators(actor: Actor): Promise<OperatorView[]>;
  revokeOperator(actor: Actor, id: unknown): Promise<OperatorView>;
  rotateOperatorKey(actor: Actor, id: unknown): Promise<{ readonly operator: OperatorView; readonly api_key: string }>;
  /** The operator an API key belongs to, or undefined for an unknown, revoked or wrong key. */
  authenticate(apiKey: string | undefined): Promise<OperatorActor | undefined>;
}

export function createOperatorOperations({ records, secrets, now, record, issueKey }: MemberContext): OperatorOperations {
  return {
    async addOperator(actor, input) {
      assertFederation(actor, 'add operators');
      const problems: Problem[] = [];
      const name = typeof input.name === 'string' ? input.name.trim() : '';
      if (name === '' || name.length > 100 || !isPrintable(name)) problems.push({ field: 'name', code: RegistryErrorCode.invalidRequest, message: 'required, 1-100 printable characters' });
      const role = input.role as OperatorRole;
      if (role !== 'federation' && role !== 'province') problems.push({ field: 'role', code: RegistryErrorCode.invalidRequest, message: 'must be "federation" or "province"' });
      let province: string | undefined;
      if (role === 'province') {
        if (typeof input.province !== 'string' || !isDivisionCode(input.province) || provinceOf(input.province) !== input.province) {
          problems.push({ field: 'province', code: RegistryErrorCode.invalidDivisionCode, message: `a province operator needs a province code such as 330000, got "${String(input.province ?? '')}"` });
        } else {
          province = input.province;
        }
      } else if (input.province !== undefined) {
        problems.push({ field: 'province', code: RegistryErrorCode.invalidRequest, message: 'only province operators have a province' });
      }
      if (problems.length) throw RegistryError.of(problems);
      const id = randomBytes(6).toString('hex');
      const key = await issueKey();
      const at = now();
      const operator: Operator = { id, name, role, ...(province ? { province } : {}), status: 'active', key_hash: key.hash, created_at: at, updated_at: at, revision: 1 };
      await records.createOperator(operator);
      await record(actor, 'operator.add', { type: 'operator', id }, province ? { province } : {}, undefined, operatorView(operator));
      return { operator: operatorView(operator), api_key: `tbo_${id}_${key.secret}` };
    },

    async listOperators(actor) {
      assertFederation(actor, 'list operators');
      return (await records.operators()).map(operatorView);
    },

    async revokeOperator(actor, idInput) {
      assertFederation(actor, 'revoke operators');
      const id = String(idInput ?? '');
      const { before, after } = await records.updateOperator(id, (current) => ({ ...current, status: 'revoked', updated_at: now() }));
      await record(actor, 'operator.revoke', { type: 'operator', id }, before!.province ? { province: before!.province } : {}, operatorView(before!), operatorView(after!));
      return operatorView(after!);
    },

    async rotateOperatorKey(actor, idInput) {
      assertFederation(actor, 'rotate operator keys');
      const id = String(idInput ?? '');
      const key = await issueKey();
      const { before, after } = await records.updateOperator(id, (current) => {
        if (current.status !== 'active') throw problem(RegistryErrorCode.invalidRequest, 'id', `operator ${id} is revoked`);
        return { ...current, key_hash: key.hash, updated_at: now() };
      });
      await record(actor, 'operator.rotate_key', { type: 'operator', id }, before!.province ? { province: before!.province } : {}, operatorView(before!), operatorView(after!));
      return { operator: operatorView(after!), api_key: `tbo_${id}_${key.secret}` };
    },

    async authenticate(apiKey) {
      const match = apiKey ? apiKeyPattern.exec(apiKey) : null;
      if (!match) return undefined;
      const operator = await records.operator(match[1]!);
      if (!operator || operator.status !== 'active') return undefined;
      const upgrade = (keyed: string) => records.updateOperator(operator.id, (current) => (current.key_hash === operator.key_hash ? { ...current, key_hash: keyed } : current));
      if (!(await secrets.verify(match[2]!, operator.key_hash, upgrade))) return undefined;
      return { kind: 'operator', id: operator.id, name: operator.name, role: operator.role, ...(operator.province ? { province: operator.province } : {}) };
    },
  };
}
