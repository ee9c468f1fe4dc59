/**
 * The `resource` commands of the operator CLI (`npm run cities -- resource ...`): register,
 * list, show, remove resource servers, rotate their service secret, manage their token-exchange
 * routes, read their audit trail. Each works directly on the store, like the rest of the CLI.
 */
import type { AuditTrail } from './audit.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { tongbanError, type TongbanError } from '../platform/errors.ts';
import type { Store } from '../platform/storage/types.ts';
import { createResourceServerRecords, resourceNotFound, type ResourceServerRecords } from './records.ts';
import type { ResourceServerInput, ResourceServerRecord } from './types.ts';

export const resourceUsage = `  resource list | resource show <identifier> | resource remove <identifier>
  resource register --identifier <uri> --city <code> --scope "<scopes>" [--name <name>]
           [--client <client_id>...] [--format jwt|opaque] [--ttl <seconds>] [--service-client-id <id>]
                                         registers an API (or updates it: omitted options keep their value)
  resource rotate-secret <identifier>    a new secret for the API's own client (introspection, exchange)
  resource route add <from> --to <identifier> --scope "<scopes>" | resource route remove <from> --to <identifier>
  resource audit [--limit <n>]           registrations, routes and token exchanges, newest first`;

export interface ResourceCommandContext {
  readonly store: Store;
  /** Who runs the command, for the audit trail. */
  readonly actor: string;
  /** The broker's audit trail, resource-shaped (resources/audit.ts); default the store's own. */
  readonly audit?: AuditTrail;
  readonly mode: 'development' | 'production';
  readonly isClientIdTaken?: (clientId: string) => Promise<boolean>;
}

export interface ResourceCommandOutput {
  readonly json: unknown;
  /** Absent when the output holds a secret and is always JSON. */
  readonly text?: string;
}

type Values = Record<string, string | boolean | string[] | undefined>;

function usage(message: string): TongbanError {
  return tongbanError('usage', { params: { reason: `resource: ${message}\n\n${resourceUsage}` } });
}

function parse(args: readonly string[], options: ParseArgsConfig['options'], positionals: number): { values: Values; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage((error as Error).message);
  }
  if (parsed.positionals.length !== positionals) throw usage(`expected ${positionals} argument(s), got ${parsed.positionals.length}`);
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

const scopes = (value: unknown) => (typeof value === 'string' ? value.split(/[\s,]+/).filter(Boolean) : undefined);

function describe(record: ResourceServerRecord): string {
  return [
    `${record.identifier}  ${record.name}`,
    `  city ${record.city}, ${record.accessTokenFormat} tokens for ${record.accessTokenTtl} s, from ${record.source}`,
    `  scopes: ${record.scopes.join(' ')}`,
    `  apps that may ask: ${record.clients.join(' ') || '(none)'}`,
    `  own client: ${record.serviceClientId}`,
    ...record.routes.map((route) => `  may call ${route.target} for ${route.scopes.join(' ')}`),
  ].join('\n');
}

async function register(records: ResourceServerRecords, args: readonly string[], context: ResourceCommandContext): Promise<ResourceCommandOutput> {
  const { values } = parse(args, {
    identifier: { type: 'string' }, city: { type: 'string' }, scope: { type: 'string' }, name: { type: 'string' },
    client: { type: 'string', multiple: true }, format: { type: 'string' }, ttl: { type: 'string' }, 'service-client-id': { type: 'string' },
  }, 0);
  const identifier = values.identifier as string | undefined;
  if (!identifier) throw usage('register: --identifier is required');
  const existing = await records.get(identifier);
  const ttl = values.ttl === undefined ? existing?.accessTokenTtl : Number(values.ttl);
  const input = {
    identifier,
    city: (values.city as string | undefined) ?? existing?.city,
    name: (values.name as string | undefined) ?? existing?.name,
    scopes: scopes(values.scope) ?? existing?.scopes,
    clients: (values.client as string[] | undefined) ?? existing?.clients ?? [],
    accessTokenFormat: (values.format as string | undefined) ?? existing?.accessTokenFormat,
    accessTokenTtl: ttl,
    serviceClientId: (values['service-client-id'] as string | undefined) ?? existing?.serviceClientId,
    routes: existing?.routes ?? [],
  } as unknown as ResourceServerInput;
  const result = await records.register(input, { actor: context.actor, allowLoopbackHttp: context.mode === 'development' });
  return {
    json: {
      ...result.record,
      created: result.created,
      ...(result.serviceClientSecret ? { service_client_secret: result.serviceClientSecret } : {}),
    },
  };
}

async function route(records: ResourceServerRecords, args: readonly string[], context: ResourceCommandContext): Promise<ResourceCommandOutput> {
  const [sub, ...rest] = args;
  const change = { actor: context.actor, allowLoopbackHttp: context.mode === 'development' };
  if (sub === 'add') {
    const { values, positionals } = parse(rest, { to: { type: 'string' }, scope: { type: 'string' } }, 1);
    const target = values.to as string | undefined;
    const list = scopes(values.scope);
    if (!target || !list) throw usage('route add: --to and --scope are required');
    const record = await records.addRoute(positionals[0]!, { target, scopes: list }, change);
    return { json: record, text: describe(record) };
  }
  if (sub === 'remove') {
    const { values, positionals } = parse(rest, { to: { type: 'string' } }, 1);
    if (typeof values.to !== 'string') throw usage('route remove: --to is required');
    const record = await records.removeRoute(positionals[0]!, values.to, change);
    return { json: record, text: describe(record) };
  }
  throw usage(`route: expected add or remove, got "${sub ?? ''}"`);
}

/**
 * Runs `resource <sub-command> ...`. Refusals are TongbanErrors (`usage`, `resource_invalid`,
 * `resource_not_found`, `resource_conflict`).
 *
 * @example
 * const output = await runResourceCommand(['list'], { store, actor: 'cli:li', mode: 'production' });
 */
export async function runResourceCommand(args: readonly string[], context: ResourceCommandContext): Promise<ResourceCommandOutput> {
  const records = createResourceServerRecords({ store: context.store, ...(context.audit ? { audit: context.audit } : {}), ...(context.isClientIdTaken ? { isClientIdTaken: context.isClientIdTaken } : {}) });
  const [sub, ...rest] = args;
  const change = { actor: context.actor };
  switch (sub) {
    case 'list': {
      parse(rest, {}, 0);
      const all = await records.list();
      return { json: { resources: all }, text: all.length ? all.map(describe).join('\n\n') : 'no resource servers' };
    }
    case 'show': {
      const { positionals } = parse(rest, {}, 1);
      const record = await records.get(positionals[0]!);
      if (!record) throw resourceNotFound(positionals[0]!);
      return { json: record, text: describe(record) };
    }
    case 'register':
      return register(records, rest, context);
    case 'remove': {
      const { positionals } = parse(rest, {}, 1);
      await records.remove(positionals[0]!, change);
      return { json: { removed: positionals[0] }, text: `resource server ${positionals[0]} is removed` };
    }
    case 'rotate-secret': {
      const { positionals } = parse(rest, {}, 1);
      const secret = await records.rotateServiceSecret(positionals[0]!, change);
      const record = await records.get(positionals[0]!);
      return { json: { identifier: positionals[0], service_client_id: record?.serviceClientId, service_client_secret: secret } };
    }
    case 'route':
      return route(records, rest, context);
    case 'audit': {
      const { values } = parse(rest, { limit: { type: 'string' } }, 0);
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw usage('audit: --limit must be an integer 1–1000');
      const entries = await records.audit.recent(limit);
      return {
        json: { entries },
        text: entries.length ? entries.map((e) => `${e.at}  ${e.actor}  ${e.event}  ${String(e.fields.identifier ?? e.fields.resource ?? '')}`).join('\n') : 'no entries',
      };
    }
    default:
      throw usage(`expected list, show, register, remove, rotate-secret, route or audit, got "${sub ?? ''}"`);
  }
}
