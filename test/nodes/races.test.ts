/**
 * Races between nodes: the same authorization code redeemed, the same refresh token rotated, or the
 * same legacy ticket validated, on two broker processes at the same instant. Exactly one succeeds,
 * every time; the other is treated as the replay it is (for codes and refresh tokens that also ends
 * the grant the winner got its tokens from).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Browser } from '../support/browser.ts';
import { authorizationRequest, browse, login, type AuthorizationAttempt } from '../support/federation.ts';
import { freshZhejiangTimes, portal, redisUrl, startNodeFederation, type NodeFederation } from '../support/nodes.ts';

const rounds = 30;
const unserved = 'http://127.0.0.1:9';
/** A Zhejiang service system on the legacy ticket API (broker/legacy). */
const legacySystem = {
  province: 'zhejiang',
  city: '330400',
  serviceCode: 'jx-gjj',
  name: '嘉兴公积金',
  callbackUrl: `${unserved}/jx-gjj/callback`,
  servicePassword: 'jx-gjj-service-password-2027',
  scopes: ['profile'],
};
const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const basic = `Basic ${Buffer.from(`${portal.client_id}:${portal.client_secret}`).toString('base64')}`;

interface TokenAnswer {
  readonly status: number;
  readonly body: { error?: string; access_token?: string; refresh_token?: string };
}

async function tokenRequest(node: string, form: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(`${node}/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: await response.json() as TokenAnswer['body'] };
}

async function introspect(node: string, token: string): Promise<boolean> {
  const response = await fetch(`${node}/token/introspection`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return ((await response.json()) as { active: boolean }).active;
}

/** Runs `task` for 0..count-1, at most `width` at a time. */
async function pooled<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  }));
  return results;
}

/** The two answers of one race, winner first; asserts exactly one won. */
function oneWinner(answers: TokenAnswer[], round: number): [TokenAnswer, TokenAnswer] {
  const won = answers.filter((a) => a.status === 200);
  const lost = answers.filter((a) => a.status !== 200);
  assert.equal(won.length, 1, `round ${round}: ${won.length} requests succeeded (${answers.map((a) => `${a.status} ${a.body.error ?? ''}`).join(', ')})`);
  assert.equal(lost[0]!.status, 400, `round ${round}`);
  assert.equal(lost[0]!.body.error, 'invalid_grant', `round ${round}`);
  return [won[0]!, lost[0]!];
}

describe('races between two broker nodes (Redis)', function () {
  this.timeout(60_000);
  let federation: NodeFederation;
  let a: string;
  let b: string;

  before(async () => {
    // Every round logs 张三 in at the national platform: three races of 30 rounds are 90 logins of one
    // person in a minute, beyond the production limit of 30 in ten minutes (test/flow/rate-limits.test.ts
    // guards that limit); here it is raised so that the races, not the limit, are what is tested.
    federation = await startNodeFederation({
      store: redisUrl, nodes: 2,
      config: { legacySystems: [legacySystem], rateLimits: { perPerson: { login: { points: 1000, durationSeconds: 600 } } } },
    });
    [a, b] = federation.nodes.map((node) => node.url) as [string, string];
  });
  after(async () => federation?.stop());

  it(`the same code redeemed on both nodes at once: exactly one succeeds (${rounds} rounds)`, async () => {
    const { rp } = federation;
    const codes = await pooled(rounds, 6, async () => {
      const attempt: AuthorizationAttempt = await authorizationRequest(rp);
      const page = await browse(new Browser(), rp, attempt, 'zhangsan');
      const code = new URL(page.location!).searchParams.get('code');
      assert.ok(code, `a code: ${page.status}`);
      return { code, attempt };
    });
    const winners: string[] = [];
    for (const [round, { code, attempt }] of codes.entries()) {
      const form = { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: attempt.codeVerifier };
      const [won] = oneWinner(await Promise.all([tokenRequest(a, form), tokenRequest(b, form)]), round);
      winners.push(won.body.access_token!);
    }
    // The replay ended each grant: the winner's tokens are dead too, whichever node checks.
    const active = await Promise.all(winners.map((token, i) => introspect(i % 2 ? a : b, token)));
    assert.deepEqual(active.filter(Boolean), [], 'no token of a replayed code stays active');
  });

  // Sent at the same instant, the loser's reuse detection may end the grant before the winner
  // answers (RFC 9700 §4.14.2): then neither wins. The guarantee is at most one winner, every loser
  // `invalid_grant`, and every refresh token of the grant dead afterwards (docs/relying-services.md).
  it(`the same refresh token rotated on both nodes at once: at most one succeeds and the grant ends (${rounds} rounds)`, async () => {
    const { rp } = federation;
    const refreshTokens = await pooled(rounds, 6, async () => (await login(new Browser(), rp, 'lisi')).tokens.refresh_token!);
    const leftOver: string[] = [];
    for (const [round, refreshToken] of refreshTokens.entries()) {
      const form = { grant_type: 'refresh_token', refresh_token: refreshToken };
      const answers = await Promise.all([tokenRequest(a, form), tokenRequest(b, form)]);
      const won = answers.filter((answer) => answer.status === 200);
      const lost = answers.filter((answer) => answer.status !== 200);
      const seen = answers.map((answer) => `${answer.status} ${answer.body.error ?? ''}`).join(', ');
      assert.ok(won.length <= 1, `round ${round}: ${won.length} requests succeeded (${seen})`);
      for (const answer of lost) {
        assert.equal(answer.status, 400, `round ${round}: ${seen}`);
        assert.equal(answer.body.error, 'invalid_grant', `round ${round}: ${seen}`);
      }
      leftOver.push(refreshToken);
      if (won[0]?.body.refresh_token) leftOver.push(won[0].body.refresh_token);
    }
    // Reuse detection ended each grant: the raced token and any rotated-in one are refused on both nodes.
    const reuse = await Promise.all(leftOver.flatMap((token) => [a, b].map((node) => tokenRequest(node, { grant_type: 'refresh_token', refresh_token: token }))));
    assert.deepEqual(reuse.map((r) => r.body.error), reuse.map(() => 'invalid_grant'));
  });

  it(`the same legacy ticket validated on both nodes at once: exactly one succeeds (${rounds} rounds)`, async () => {
    const { issuer } = federation;
    const tickets = await pooled(rounds, 6, async () => {
      const browser = new Browser();
      const stopAt = (url: URL) => url.href.startsWith(legacySystem.callbackUrl);
      let page = await browser.follow(`${issuer}/zj/sso/usp.do?action=ssoLogin&servicecode=${legacySystem.serviceCode}`, { stopAt });
      page = await browser.submitForm(page.body, page.url, { username: 'zhangsan', password: 'tongban-demo' }, { stopAt });
      const ticket = page.location ? new URL(page.location).searchParams.get('ticket') : null;
      assert.ok(ticket, `a ticket: ${page.status} ${page.url}`);
      return ticket;
    });
    // The Zhejiang API signs with Beijing time, yyyyMMddHHmmss; each call afresh (a reused pair is 6007).
    const signedTime = freshZhejiangTimes();
    const validate = async (node: string, ticket: string) => {
      const time = signedTime();
      const params = new URLSearchParams({
        method: 'ticketValidation', servicecode: legacySystem.serviceCode, time,
        sign: md5(legacySystem.serviceCode + legacySystem.servicePassword + time), st: ticket, datatype: 'json',
      });
      return (await (await fetch(`${node}/zj/sso/servlet/simpleauth?${params}`)).json()) as { result: string };
    };
    for (const [round, ticket] of tickets.entries()) {
      const answers = await Promise.all([validate(a, ticket), validate(b, ticket)]);
      assert.deepEqual(answers.map((answer) => answer.result).sort(), ['0', '6004'], `round ${round}`);
    }
  });
});
