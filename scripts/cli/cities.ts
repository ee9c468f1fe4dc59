/**
 * Operator CLI for member cities, their apps and the admin API's operators. It works directly on
 * the store of the broker it manages (scripts/cli/configuration.ts: TONGBAN_CONFIG; without it and
 * without TONGBAN_MODE / TONGBAN_STORE, the config/demo.json of `npm start`), so running
 * brokers see every change within a second, without a restart. See docs/operators.md.
 */
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { seedCities } from '../../config/cities.ts';
import { tunables } from '../../config/defaults.ts';
import { ConfigError } from '../../config/load.ts';
import { configurationLine, loadProgramConfig, storeText } from './configuration.ts';
import { alignedTable as table } from './display-width.ts';
import { list, parse, readJwks, str, ttlSeconds, UsageError } from './arguments.ts';
import { isTongbanError } from '../../broker/platform/errors.ts';
import { createLogger } from '../../broker/platform/log.ts';
import { isStoreUnavailable, guardStore } from '../../broker/platform/storage/guard.ts';
import { createStore } from '../../broker/platform/storage/index.ts';
import { cliActor, createMemberRegistry, isRegistryError, type MemberRegistry } from '../../broker/members/index.ts';
import { createOidcAdapterFactory } from '../../broker/oidc/adapter.ts';
import { cryptoSuite, storeIdKeyOf } from '../../broker/platform/crypto/index.ts';
import { openAuditTrail, type AuditTrail } from '../../broker/audit/index.ts';
import { resourceAuditOn } from '../../broker/resources/audit.ts';
import { loadKeys } from '../../broker/oidc/keys.ts';
import { secretKeyOf } from '../../broker/platform/crypto/client-secrets.ts';
import type { Actor, AuditEntry } from '../../broker/members/index.ts';
import { resourceUsage, runResourceCommand } from '../../broker/resources/commands.ts';
import type { Store } from '../../broker/platform/storage/types.ts';

const usage = `usage: npm run --silent cities -- <command> [options] [--json]

  list                                   member cities with their number of apps
  show <code>                            one city and its apps
  add-city --code <code> --name <name> [--registration-scope "<scopes>"]
  register --city <code> --name <app> --redirect-uri <uri> [--redirect-uri <uri>...]
           [--post-logout-redirect-uri <uri>...] [--backchannel-logout-uri <uri>]
           [--auth-method client_secret_basic|client_secret_post|private_key_jwt]
           [--jwks-uri <uri> | --jwks <file>] [--grant refresh_token] [--scope "<scopes>"]
           [--first-party] [--client-id <id>] [--purpose <item>=<why>...] [--sector-identifier-uri <uri>]
  suspend <client_id> | resume <client_id> | rotate-secret <client_id> | remove <client_id>
  app <client_id>                        one app
  audit [--city <code>] [--limit <n>]    the audit trail, newest first
  issue-token --city <code> [--ttl <seconds|30m|12h|7d>] [--uses <n>]
                                         an initial access token for dynamic client registration
                                         (--uses 1: single use)
  token list | token revoke <id>         initial access tokens (by id, never the token itself)
  add-operator --name <name> --role federation|province [--province <code>]
  operator list | operator revoke <id> | operator rotate-key <id>
${resourceUsage}

Commands that print a secret (register, rotate-secret, issue-token, add-operator,
operator rotate-key, resource register, resource rotate-secret) always print JSON; the others
print JSON with --json.`;

function actorText(actor: Actor): string {
  switch (actor.kind) {
    case 'cli': return `cli:${actor.user}`;
    case 'operator': return `operator:${actor.id}`;
    case 'dynamic_registration': return `dcr:${actor.client_id}`;
    default: return `system:${actor.reason}`;
  }
}

interface Output {
  /** Printed as JSON (always, or with --json). */
  readonly json: unknown;
  /** Human-readable form; absent when the command always prints JSON. */
  readonly text?: string;
}

/** `audit`: the broker's one audit trail, opened like the brokers open it (same suite and signer). */
type Command = (args: string[], service: MemberRegistry, actor: Actor, store: Store, audit: AuditTrail) => Promise<Output>;

const commands: Record<string, Command> = {
  async list(args, service, actor) {
    parse(args, {}, 0);
    const cities = await service.listCities(actor);
    return {
      json: { cities },
      text: table([['code', 'province', 'name', 'apps'], ...cities.map((c) => [c.code, c.province, c.name, String(c.apps)])]),
    };
  },

  async show(args, service, actor) {
    const { positionals } = parse(args, {}, 1);
    const view = await service.showCity(actor, positionals[0]);
    const { city, apps } = view;
    const lines = [`${city.code} ${city.name} (province ${city.province}, ${city.source}, since ${city.created_at})`];
    lines.push(`registration scopes: ${city.registration_scopes.join(' ')}`);
    if (apps.length === 0) lines.push('no apps');
    else lines.push(table([['client_id', 'status', 'source', 'scope', 'name'], ...apps.map((a) => [a.client_id, a.status, a.source, a.scope, a.name])]));
    return { json: view, text: lines.join('\n') };
  },

  async app(args, service, actor) {
    const { positionals } = parse(args, {}, 1);
    const app = await service.showApp(actor, positionals[0]);
    return { json: app, text: JSON.stringify(app, null, 2) };
  },

  async 'add-city'(args, service, actor) {
    const { values } = parse(args, { code: { type: 'string' }, name: { type: 'string' }, 'registration-scope': { type: 'string' } }, 0);
    const city = await service.addCity(actor, { code: str(values, 'code'), name: str(values, 'name'), registration_scopes: str(values, 'registration-scope') });
    return { json: city, text: `added city ${city.code} ${city.name} (province ${city.province})` };
  },

  async register(args, service, actor) {
    const { values } = parse(args, {
      city: { type: 'string' },
      name: { type: 'string' },
      'client-id': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'backchannel-logout-uri': { type: 'string' },
      'auth-method': { type: 'string' },
      'jwks-uri': { type: 'string' },
      jwks: { type: 'string' },
      grant: { type: 'string', multiple: true },
      scope: { type: 'string' },
      'first-party': { type: 'boolean' },
      purpose: { type: 'string', multiple: true },
      'sector-identifier-uri': { type: 'string' },
    }, 0);
    // --purpose id_number=办理公积金提取时核验身份: the purpose stated per sensitive item (shown on the consent page).
    const purposes = values.purpose ? Object.fromEntries((list(values, 'purpose') ?? []).map((p) => [p.slice(0, Math.max(0, p.indexOf('='))) || p, p.includes('=') ? p.slice(p.indexOf('=') + 1) : ''])) : undefined;
    const registered = await service.registerApp(actor, {
      ...(values['client-id'] !== undefined ? { client_id: str(values, 'client-id') } : {}),
      city: str(values, 'city'),
      name: str(values, 'name'),
      redirect_uris: list(values, 'redirect-uri') ?? [],
      ...(values['post-logout-redirect-uri'] ? { post_logout_redirect_uris: list(values, 'post-logout-redirect-uri') } : {}),
      ...(values['backchannel-logout-uri'] !== undefined ? { backchannel_logout_uri: str(values, 'backchannel-logout-uri') } : {}),
      ...(values['auth-method'] !== undefined ? { token_endpoint_auth_method: str(values, 'auth-method') } : {}),
      ...(values['jwks-uri'] !== undefined ? { jwks_uri: str(values, 'jwks-uri') } : {}),
      ...(values.jwks !== undefined ? { jwks: readJwks(str(values, 'jwks')) } : {}),
      ...(values.grant ? { grant_types: list(values, 'grant') } : {}),
      ...(values.scope !== undefined ? { scope: str(values, 'scope') } : {}),
      ...(values['first-party'] ? { first_party: true } : {}),
      ...(purposes ? { purposes } : {}),
      ...(values['sector-identifier-uri'] !== undefined ? { sector_identifier_uri: str(values, 'sector-identifier-uri') } : {}),
    });
    return { json: registered };
  },

  async suspend(args, service, actor) {
    const { positionals } = parse(args, {}, 1);
    const app = await service.suspendApp(actor, positionals[0]);
    return { json: app, text: `app ${app.client_id} (${app.name}, city ${app.city}) is suspended` };
  },

  async resume(args, service, actor) {
    const { positionals } = parse(args, {}, 1);
    const app = await service.resumeApp(actor, positionals[0]);
    return { json: app, text: `app ${app.client_id} (${app.name}, city ${app.city}) is active` };
  },

  async 'rotate-secret'(args, service, actor) {
    const { positionals } = parse(args, {}, 1);
    return { json: await service.rotateSecret(actor, positionals[0]) };
  },

  async remove(args, service, actor) {
    const { positionals } = parse(args, {}, 1);
    const app = await service.removeApp(actor, positionals[0]);
    return { json: app, text: `app ${app.client_id} (${app.name}, city ${app.city}) is removed` };
  },

  async audit(args, service, actor) {
    const { values } = parse(args, { city: { type: 'string' }, limit: { type: 'string' } }, 0);
    const entries = await service.audit(actor, { city: str(values, 'city'), limit: str(values, 'limit') });
    const describe = (e: AuditEntry) => [e.at, actorText(e.actor), e.action, `${e.target.type}:${e.target.id}`, e.city ?? ''];
    return { json: { entries }, text: entries.length ? table([['at', 'actor', 'action', 'target', 'city'], ...entries.map(describe)]) : 'no entries' };
  },

  async 'issue-token'(args, service, actor) {
    const { values } = parse(args, { city: { type: 'string' }, ttl: { type: 'string' }, uses: { type: 'string' } }, 0);
    const ttl = ttlSeconds(str(values, 'ttl'));
    const uses = str(values, 'uses');
    return {
      json: await service.issueInitialAccessToken(actor, {
        city: str(values, 'city'), ...(ttl === undefined ? {} : { ttl_seconds: ttl }), ...(uses === undefined ? {} : { uses }),
      }),
    };
  },

  async token(args, service, actor) {
    const [sub, ...rest] = args;
    if (sub === 'list') {
      parse(rest, {}, 0);
      const tokens = await service.listInitialAccessTokens(actor);
      const usesText = (t: { uses?: number; used: number }) => `${t.used}/${t.uses ?? '∞'}`;
      return {
        json: { tokens },
        text: tokens.length
          ? table([['id', 'city', 'expires', 'uses', 'status'], ...tokens.map((t) => [t.id, t.city, t.expires_at, usesText(t), t.revoked_at ? 'revoked' : 'active'])])
          : 'no initial access tokens',
      };
    }
    if (sub === 'revoke') {
      const { positionals } = parse(rest, {}, 1);
      const token = await service.revokeInitialAccessToken(actor, positionals[0]);
      return { json: token, text: `initial access token ${token.id} (city ${token.city}) is revoked` };
    }
    throw new UsageError(`token: expected list or revoke <id>, got "${sub ?? ''}"`);
  },

  async 'add-operator'(args, service, actor) {
    const { values } = parse(args, { name: { type: 'string' }, role: { type: 'string' }, province: { type: 'string' } }, 0);
    return { json: await service.addOperator(actor, { name: str(values, 'name'), role: str(values, 'role'), ...(values.province !== undefined ? { province: str(values, 'province') } : {}) }) };
  },

  async operator(args, service, actor) {
    const [sub, ...rest] = args;
    if (sub === 'list') {
      parse(rest, {}, 0);
      const operators = await service.listOperators(actor);
      return {
        json: { operators },
        text: operators.length
          ? table([['id', 'role', 'province', 'status', 'name'], ...operators.map((o) => [o.id, o.role, o.province ?? '', o.status, o.name])])
          : 'no operators',
      };
    }
    if (sub === 'revoke') {
      const { positionals } = parse(rest, {}, 1);
      const operator = await service.revokeOperator(actor, positionals[0]);
      return { json: operator, text: `operator ${operator.id} (${operator.name}) is revoked` };
    }
    if (sub === 'rotate-key') {
      const { positionals } = parse(rest, {}, 1);
      return { json: await service.rotateOperatorKey(actor, positionals[0]) };
    }
    throw new UsageError(`operator: expected list, revoke <id> or rotate-key <id>, got "${sub ?? ''}"`);
  },

  // Resource servers (APIs) and their token-exchange routes: docs/relying-services.md.
  resource(args, service, actor, store, audit) {
    return runResourceCommand(args, {
      store,
      audit: resourceAuditOn(audit),
      actor: actorText(actor),
      mode: service.mode,
      isClientIdTaken: async (clientId) => service.configuredClientIds.has(clientId) || (await service.records.app(clientId)) !== undefined,
    });
  },
};

/** What the CLI writes to and reads its configuration from; a process, or a test. */
export interface CitiesIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Runs one CLI command; resolves with the exit code (0 done, 1 refused, 2 usage or configuration). */
export async function runCities(argv: readonly string[], io: CitiesIo): Promise<number> {
  const [name, ...args] = argv;
  const json = args.includes('--json');
  const fail = (code: string, message: string, problems: readonly unknown[] = []): number => {
    io.stderr(json
      ? `${JSON.stringify({ error: code, error_description: message, ...(problems.length ? { problems } : {}) })}\n`
      : `cities: ${code}: ${message}\n`);
    return code === 'usage' || code === 'config_invalid' ? 2 : 1;
  };
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(`${usage}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) return fail('usage', `unknown command "${name}"\n\n${usage}`);

  let config;
  try {
    // The configuration of the broker this CLI manages (scripts/cli/configuration.ts), named on stderr.
    const loaded = loadProgramConfig(io.env, 'cli');
    config = loaded.config;
    io.stderr(configurationLine('cities', config, loaded.source));
  } catch (error) {
    if (error instanceof ConfigError) return fail('config_invalid', error.message);
    throw error;
  }
  const logger = createLogger({ level: 'error', write: () => undefined });
  let store;
  try {
    store = guardStore(await createStore(config.store, { namespace: config.storeNamespace, logger }), logger);
  } catch (error) {
    return fail('store_unavailable', `cannot open the store ${storeText(config.store)}: ${(error as Error).message}`);
  }
  // The brokers' key for stored secrets: apps and operators registered here get the keyed hash too.
  let secretKey;
  let idKey;
  let audit;
  try {
    audit = (await openAuditTrail(config, store)).trail;
    const { subjectSecret } = await loadKeys(config, store, logger);
    secretKey = secretKeyOf(subjectSecret);
    idKey = storeIdKeyOf(subjectSecret);
  } catch (error) {
    await store.close().catch(() => undefined);
    return fail('config_invalid', `cannot read the keys: ${(error as Error).message}`);
  }
  const service = createMemberRegistry({
    store, mode: config.mode, issuer: config.issuer, configuredClients: config.clients, secretKey, audit,
    oidcAdapter: createOidcAdapterFactory(store, { idKey, suite: cryptoSuite(config.crypto?.suite ?? 'international'), clockToleranceSeconds: tunables.clockToleranceSeconds }),
  });
  try {
    await service.seed(seedCities);
    const output = await command(args, service, cliActor(), store, audit);
    const asJson = json || output.text === undefined;
    io.stdout(`${asJson ? JSON.stringify(output.json, null, 2) : output.text}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return fail('usage', `${name}: ${error.message}\n\n${usage}`);
    // The operator at the terminal may see the driver's reason; the public never does.
    if (isStoreUnavailable(error)) return fail('store_unavailable', `the store is unavailable (${String((error.cause as Error | undefined)?.message ?? 'unknown reason')}); try again later`);
    if (isTongbanError(error)) return fail(error.code, error.message, isRegistryError(error) ? error.problems : []);
    throw error;
  } finally {
    await store.close().catch(() => undefined);
  }
}

// Runs only as a program (`npm run cities`), not when a test imports `runCities`.
if (process.argv[1] && import.meta.url === pathToFileURL(resolvePath(process.argv[1])).href) {
  runCities(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`cities: internal_error: ${(error as Error)?.message ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
