/**
 * The load generator, in its own process: runs the jobs the benchmark sends over IPC and answers
 * with their results. A login is the whole thing a portal and a person do: authorization request,
 * the login page (the national platform's, or the bare provider's) filled in and posted over HTTP,
 * every redirect, the code redeemed with PKCE, the ID token's signature, issuer, audience and nonce
 * checked. Tokens from logins feed the refresh, userinfo and introspection jobs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { readForm, send, UserAgent } from './client.ts';
import type { Job, JobResult, Progress, Target } from './protocol.ts';

interface Endpoints {
  readonly authorization: URL;
  readonly token: URL;
  readonly userinfo: URL;
  readonly introspection: URL;
  readonly jwks: ReturnType<typeof createLocalJWKSet>;
}

interface Tokens {
  readonly access: string;
  readonly refresh: string | undefined;
}

const endpoints = new Map<string, Promise<Endpoints>>();
/** Tokens of recent logins, per target, for the token jobs. */
const pools = new Map<string, Tokens[]>();
const poolSize = 2000;

async function json<T>(url: URL): Promise<T> {
  const answer = await send(url);
  if (answer.status !== 200) throw new Error(`${url.pathname}: ${answer.status}`);
  return JSON.parse(answer.body) as T;
}

function endpointsOf(target: Target): Promise<Endpoints> {
  let found = endpoints.get(target.name);
  if (!found) {
    found = (async () => {
      const metadata = await json<Record<string, string>>(new URL('/.well-known/openid-configuration', target.issuer));
      return {
        authorization: new URL(metadata.authorization_endpoint!),
        token: new URL(metadata.token_endpoint!),
        userinfo: new URL(metadata.userinfo_endpoint!),
        introspection: new URL(metadata.introspection_endpoint!),
        jwks: createLocalJWKSet(await json<JSONWebKeySet>(new URL(metadata.jwks_uri!))),
      };
    })();
    endpoints.set(target.name, found);
  }
  return found;
}

const random = () => randomBytes(32).toString('base64url');
const basic = (target: Target) => `Basic ${Buffer.from(`${encodeURIComponent(target.clientId)}:${encodeURIComponent(target.clientSecret)}`).toString('base64')}`;

async function tokenRequest(target: Target, at: Endpoints, form: Record<string, string>): Promise<Record<string, string>> {
  const answer = await send(at.token, {
    method: 'POST',
    headers: { authorization: basic(target), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  if (answer.status !== 200) throw new Error(`token ${answer.status}: ${answer.body.slice(0, 120)}`);
  return JSON.parse(answer.body) as Record<string, string>;
}

async function login(target: Target): Promise<Tokens> {
  const at = await endpointsOf(target);
  const browser = new UserAgent();
  const verifier = random();
  const state = random();
  const nonce = random();
  const authorization = new URL(at.authorization);
  authorization.search = new URLSearchParams({
    client_id: target.clientId,
    response_type: 'code',
    redirect_uri: target.redirectUri,
    scope: target.scope,
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const stopAt = (url: URL) => url.href.startsWith(target.redirectUri);
  let answer = await browser.follow(authorization, { stopAt });
  if (!answer.location) {
    const form = readForm(answer);
    if (!('password' in form.fields)) throw new Error(`no login form at ${answer.url.pathname} (${answer.status})`);
    answer = await browser.follow(form.action, { form: { ...form.fields, username: target.username, password: target.password }, stopAt });
  }
  if (!answer.location) throw new Error(`login ended at ${answer.url.pathname} with ${answer.status}`);
  const back = answer.location.searchParams;
  if (back.get('state') !== state) throw new Error('state mismatch');
  const code = back.get('code');
  if (!code) throw new Error(`no code: ${back.get('error') ?? 'nothing'}`);
  const tokens = await tokenRequest(target, at, { grant_type: 'authorization_code', code, redirect_uri: target.redirectUri, code_verifier: verifier });
  const { payload } = await jwtVerify(tokens.id_token!, at.jwks, { issuer: target.issuer, audience: target.clientId });
  if (payload.nonce !== nonce) throw new Error('nonce mismatch');
  return { access: tokens.access_token!, refresh: tokens.refresh_token };
}

function pool(target: Target): Tokens[] {
  let list = pools.get(target.name);
  if (!list) {
    list = [];
    pools.set(target.name, list);
  }
  return list;
}

/** One operation of a job; `slot` is the virtual user, which owns the tokens at `slot` of the pool. */
async function operation(job: Job, slot: number): Promise<void> {
  const { target } = job;
  if (job.kind === 'login') {
    const tokens = await login(target);
    const list = pool(target);
    if (list.length < poolSize) list.push(tokens);
    else list[Math.floor(Math.random() * poolSize)] = tokens;
    return;
  }
  const at = await endpointsOf(target);
  const list = pool(target);
  if (list.length === 0) throw new Error('no tokens: run a login job first');
  const index = slot % list.length;
  const tokens = list[index]!;
  if (job.kind === 'refresh') {
    const answer = await tokenRequest(target, at, { grant_type: 'refresh_token', refresh_token: tokens.refresh! });
    list[index] = { access: answer.access_token!, refresh: answer.refresh_token };
  } else if (job.kind === 'userinfo') {
    const answer = await send(at.userinfo, { headers: { authorization: `Bearer ${tokens.access}`, accept: 'application/json' } });
    if (answer.status !== 200) throw new Error(`userinfo ${answer.status}`);
    JSON.parse(answer.body);
  } else {
    const answer = await send(at.introspection, {
      method: 'POST',
      headers: { authorization: basic(target), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token: tokens.access }).toString(),
    });
    if (answer.status !== 200 || !(JSON.parse(answer.body) as { active: boolean }).active) throw new Error(`introspection ${answer.status}`);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(job: Job): Promise<JobResult> {
  await endpointsOf(job.target);
  if (job.kind !== 'login' && pool(job.target).length < job.concurrency) throw new Error('too few tokens for the job');
  const latencies: number[] = [];
  const samples = new Set<string>();
  let errors = 0;
  let skipped = 0;
  let reported = { count: 0, errors: 0, skipped: 0 };
  const started = performance.now();
  const deadline = started + job.durationMs;

  const timedOperation = async (slot: number) => {
    const t0 = performance.now();
    try {
      await operation(job, slot);
      latencies.push(performance.now() - t0);
    } catch (error) {
      errors += 1;
      if (samples.size < 5) samples.add((error as Error).message.slice(0, 160));
    }
  };
  const progress = setInterval(() => {
    const message: Progress = {
      type: 'progress',
      at: Date.now(),
      count: latencies.length - reported.count,
      errors: errors - reported.errors,
      errorSamples: [...samples],
      skipped: skipped - reported.skipped,
    };
    reported = { count: latencies.length, errors, skipped };
    process.send?.(message);
  }, job.reportEveryMs ?? 3_600_000);

  if (job.rate) {
    // Open loop: starts on a fixed schedule; never more than `concurrency` in flight.
    const inFlight = new Set<Promise<void>>();
    let slot = 0;
    for (let next = started; next < deadline; next += 1000 / job.rate) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (inFlight.size >= job.concurrency) {
        skipped += 1;
        continue;
      }
      const running = timedOperation(slot++).finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    await Promise.all(inFlight);
  } else {
    await Promise.all(Array.from({ length: job.concurrency }, async (_, slot) => {
      while (performance.now() < deadline) await timedOperation(slot);
    }));
  }
  clearInterval(progress);
  const durationMs = performance.now() - started;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    kind: job.kind,
    target: job.target.name,
    concurrency: job.concurrency,
    count: latencies.length,
    errors,
    errorSamples: [...samples],
    durationMs: Math.round(durationMs),
    perSecond: latencies.length / (durationMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length),
  };
}

process.on('message', (message: { type?: string; job?: Job }) => {
  if (message.type === 'job' && message.job) {
    run(message.job).then(
      (result) => process.send?.({ type: 'result', result }),
      (error: unknown) => process.send?.({ type: 'failed', message: (error as Error).message }),
    );
  } else if (message.type === 'stop') {
    process.exit(0);
  }
});
process.send?.({ type: 'ready' });
