/**
 * Loads the configuration: defaults, then a JSON file, then `TONGBAN_*` variables; validates the
 * whole result and reports every problem at once, each with its key. Every entry point (broker,
 * demo, CLIs) loads through here, so they all run in the one mode chosen explicitly.
 */
import { readFileSync } from 'node:fs';
import { isDivisionCode } from '../broker/identity/identifiers.ts';
import { defaults, environment, type TongbanConfig } from './defaults.ts';
import { memberCityCodeProblem } from './divisions.ts';
import { ConfigError } from './errors.ts';
import { cryptoSuiteNames, parseDataKeys } from './rules/crypto.ts';
import { configuredLegacySystemsProblems } from './rules/legacy-systems.ts';
import { developmentExposureProblems, modeNotChosen } from './rules/mode.ts';
import { validateLogoutSettings } from './rules/logout.ts';
import { trustedProxyProblems } from './rules/proxies.ts';
import { configuredResourceServersProblems } from './rules/resources.ts';
import { appUrlProblem, isLoopbackUrl } from './rules/urls.ts';

export { ConfigError } from './errors.ts';

export interface LoadOptions {
  /** Path of a JSON config file; defaults to `TONGBAN_CONFIG` when set. */
  readonly file?: string;
  /** Environment to read; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Overrides applied last (tests). */
  readonly overrides?: DeepPartial<TongbanConfig>;
}

export type DeepPartial<T> = { -readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    out[key] = isObject(value) && isObject(out[key]) ? merge(out[key] as Json, value) : value;
  }
  return out;
}

function setPath(target: Json, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(node[part])) node[part] = {};
    node = node[part] as Json;
  }
  node[parts.at(-1)!] = value;
}

function fromEnvironment(env: Readonly<Record<string, string | undefined>>, problems: string[]): Json {
  const out: Json = {};
  for (const [name, { key, type }] of Object.entries(environment)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (type === 'number') {
      const value = Number(raw);
      if (!Number.isFinite(value)) problems.push(`${key} (${name}): not a number`);
      else setPath(out, key, value);
    } else if (type === 'list') {
      setPath(out, key, raw.split(',').map((s) => s.trim()).filter(Boolean));
    } else {
      setPath(out, key, raw);
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('TONGBAN_') && !(name in environment) && name !== 'TONGBAN_CONFIG') {
      problems.push(`${name}: unknown environment variable`);
    }
  }
  return out;
}

function isUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}


function validate(config: Json, problems: string[]): void {
  const c = config as unknown as TongbanConfig;
  const production = c.mode === 'production';
  if (c.mode === undefined) problems.push(modeNotChosen);
  else if (c.mode !== 'development' && c.mode !== 'production') problems.push('mode: must be "development" or "production"');
  if (!isUrl(c.issuer)) problems.push('issuer: must be an http(s) URL');
  else if (production && !c.issuer.startsWith('https://')) problems.push('issuer: must be https in production');
  else if (!production && !c.issuer.startsWith('https://') && !isLoopbackUrl(c.issuer)) {
    problems.push('issuer: http is only allowed on loopback addresses');
  }
  if (typeof c.listen?.host !== 'string' || c.listen.host === '') problems.push('listen.host: required');
  if (!Number.isInteger(c.listen?.port) || c.listen.port < 0 || c.listen.port > 65535) problems.push('listen.port: must be an integer 0–65535');
  if (typeof c.dataDir !== 'string' || c.dataDir === '') problems.push('dataDir: required');
  if (typeof c.store !== 'string' || !/^(sqlite:|redis:|rediss:|redis\+cluster:|postgres:|postgresql:|memory:)/.test(c.store)) {
    problems.push('store: must start with sqlite:, redis:, rediss:, redis+cluster:, postgres: or memory:');
  } else if (production && c.store.startsWith('memory:')) {
    problems.push('store: memory: is for unit tests only, not production');
  }
  if (!['debug', 'info', 'warn', 'error'].includes(c.logLevel)) problems.push('logLevel: must be debug, info, warn or error');
  if (typeof c.metrics?.enabled !== 'boolean') problems.push('metrics.enabled: must be true or false');
  if (typeof c.metrics?.listen?.host !== 'string' || c.metrics.listen.host === '') problems.push('metrics.listen.host: required');
  if (!Number.isInteger(c.metrics?.listen?.port) || c.metrics.listen.port < 0 || c.metrics.listen.port > 65535) problems.push('metrics.listen.port: must be an integer 0–65535');
  if (typeof c.metrics?.path !== 'string' || !/^\/[A-Za-z0-9/_.-]*$/.test(c.metrics.path)) problems.push('metrics.path: must be a path such as /metrics');
  if (c.metrics?.enabled && c.metrics.listen.port !== 0 && c.metrics.listen.port === c.listen?.port && c.metrics.listen.host === c.listen?.host) {
    problems.push('metrics.listen: must not be the public listener');
  }
  if (typeof c.cookiePrefix !== 'string' || !/^[a-z][a-z0-9_-]{0,30}$/.test(c.cookiePrefix)) {
    problems.push('cookiePrefix: lower-case letters, digits, - and _ (max 31)');
  }
  const keys = c.keys ?? {};
  if (keys.cookieKeys !== undefined && (!Array.isArray(keys.cookieKeys) || keys.cookieKeys.some((k) => typeof k !== 'string' || k.length < 32))) {
    problems.push('keys.cookieKeys: each key must be a string of 32+ characters');
  }
  if (keys.subjectSecret !== undefined && (typeof keys.subjectSecret !== 'string' || keys.subjectSecret.length < 32)) {
    problems.push('keys.subjectSecret: must be 32+ characters');
  }
  if (keys.dataKeys !== undefined) {
    if (!Array.isArray(keys.dataKeys)) problems.push('keys.dataKeys: a list of "id:base64url" keys');
    else if (keys.dataKeys.length) problems.push(...parseDataKeys(keys.dataKeys).problems);
  }
  if (keys.auditCheckpointKeyFile !== undefined && (typeof keys.auditCheckpointKeyFile !== 'string' || keys.auditCheckpointKeyFile === '')) {
    problems.push('keys.auditCheckpointKeyFile: a file path (TONGBAN_AUDIT_CHECKPOINT_KEY_FILE)');
  }
  if (c.crypto !== undefined && !cryptoSuiteNames.includes(c.crypto?.suite)) problems.push('crypto.suite: must be "international" or "gm"');
  if (!Number.isInteger(keys.refreshSeconds) || keys.refreshSeconds < 1 || keys.refreshSeconds > 3600) {
    problems.push('keys.refreshSeconds: must be an integer 1–3600');
  }
  if (typeof c.storeNamespace !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(c.storeNamespace)) {
    problems.push('storeNamespace: 1–64 characters of A-Z a-z 0-9 _ . -');
  }
  if (production) {
    if (!keys.signingKeysFile) problems.push('keys.signingKeysFile: required in production (TONGBAN_SIGNING_KEYS_FILE)');
    if (!keys.cookieKeys?.length) problems.push('keys.cookieKeys: required in production (TONGBAN_COOKIE_KEYS)');
    if (!keys.subjectSecret) problems.push('keys.subjectSecret: required in production (TONGBAN_SUBJECT_SECRET)');
    if (!keys.dataKeys?.length) problems.push('keys.dataKeys: required in production (TONGBAN_DATA_KEY)');
  }
  problems.push(...developmentExposureProblems(c));
  const national = c.national ?? ({} as TongbanConfig['national']);
  if (!isUrl(national.issuer)) problems.push('national.issuer: must be an http(s) URL');
  else if (production && !national.issuer.startsWith('https://')) problems.push('national.issuer: must be https in production');
  if (typeof national.clientId !== 'string' || national.clientId === '') problems.push('national.clientId: required');
  if (typeof national.clientSecret !== 'string' || national.clientSecret === '') problems.push('national.clientSecret: required');
  else if (production && national.clientSecret === defaults.national.clientSecret) {
    problems.push('national.clientSecret: the development secret cannot be used in production');
  }
  if (!Number.isInteger(national.timeoutMs) || national.timeoutMs < 100 || national.timeoutMs > 60000) {
    problems.push('national.timeoutMs: must be an integer 100–60000');
  }
  for (const [name, value] of Object.entries(c.ttl ?? {})) {
    if (!Number.isInteger(value) || (value as number) <= 0) problems.push(`ttl.${name}: must be a positive integer (seconds)`);
  }
  validateLogoutSettings(c.logout, problems);
  problems.push(...trustedProxyProblems(c.proxy?.trusted));
  problems.push(...configuredLegacySystemsProblems(c.legacySystems, c.mode, c.clients));
  problems.push(...configuredResourceServersProblems(c.resources, c.mode));
  if (!Array.isArray(c.clients)) {
    problems.push('clients: must be a list');
    return;
  }
  const seen = new Set<string>();
  c.clients.forEach((client, i) => {
    const at = `clients[${i}]`;
    if (!isObject(client)) {
      problems.push(`${at}: must be an object`);
      return;
    }
    if (typeof client.client_id !== 'string' || client.client_id === '') problems.push(`${at}.client_id: required`);
    else if (seen.has(client.client_id)) problems.push(`${at}.client_id: duplicate "${client.client_id}"`);
    else seen.add(client.client_id);
    const cityProblem = typeof client.city !== 'string' || !isDivisionCode(client.city) ? 'must be a 6-digit GB/T 2260 division code' : memberCityCodeProblem(client.city);
    if (cityProblem) problems.push(`${at}.city: ${cityProblem}`);
    if (client.legal_person_subject !== undefined && client.legal_person_subject !== 'person' && client.legal_person_subject !== 'company') {
      problems.push(`${at}.legal_person_subject: must be "person" or "company"`);
    }
    if (client.required_mandate_scopes !== undefined && (!Array.isArray(client.required_mandate_scopes)
      || !client.required_mandate_scopes.every((scope: unknown) => typeof scope === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(scope)))) {
      problems.push(`${at}.required_mandate_scopes: a list of mandate scope names (e.g. "tax")`);
    }
    if (!Array.isArray(client.redirect_uris) || client.redirect_uris.length === 0) {
      problems.push(`${at}.redirect_uris: at least one`);
    } else {
      // The same rules as for apps registered at run time (broker/members/policy.ts).
      for (const uri of client.redirect_uris) {
        const problem = appUrlProblem(uri, c.mode);
        if (problem) problems.push(`${at}.redirect_uris: ${problem}`);
      }
    }
  });
}

/** Loads and validates; throws ConfigError listing every problem. */
export function loadConfig(options: LoadOptions = {}): TongbanConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  let merged: Json = structuredClone(defaults) as unknown as Json;
  // Fail closed: the mode is never taken from the defaults; the file, the environment or the caller chooses it.
  delete merged.mode;
  const file = options.file ?? env.TONGBAN_CONFIG;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!isObject(parsed)) problems.push(`${file}: must contain a JSON object`);
      else merged = merge(merged, parsed);
    } catch (error) {
      problems.push(`${file}: cannot be read as JSON (${(error as Error).message.split('\n')[0]})`);
    }
  }
  merged = merge(merged, fromEnvironment(env, problems));
  if (options.overrides) merged = merge(merged, options.overrides as Json);
  validate(merged, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return merged as unknown as TongbanConfig;
}
