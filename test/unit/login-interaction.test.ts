/**
 * The login routes' reading of signed cookies and of the interaction: the signatures of the
 * `cookies` package are checked the same way (current and older keys, nothing else), an
 * interaction is read once per request however many parts of it ask, and ending it does what
 * oidc-provider's `interactionResult` does.
 */
import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Keygrip from 'keygrip';
import Koa, { type Context } from 'koa';
import type Provider from 'oidc-provider';
import { endInteraction, interactionDetails, interactionNamed, loginLocalesOf, type InteractionDetails } from '../../broker/login/interaction.ts';
import { requestCookie, signedCookie, signedCookieOnce } from '../../broker/login/signed-cookie.ts';

const keys = ['current-cookie-key', 'older-cookie-key'];

function contextWith(cookie: string | undefined, appKeys: string[] = keys): Context {
  const app = new Koa();
  app.keys = appKeys;
  const req = new IncomingMessage(new Socket());
  if (cookie !== undefined) req.headers.cookie = cookie;
  return app.createContext(req, new ServerResponse(req));
}

/** `name=value` and its signature as the `cookies` package writes them under `key`. */
function signedPair(name: string, value: string, key: string): string {
  return `${name}=${value}; ${name}.sig=${new Keygrip([key]).sign(`${name}=${value}`)}`;
}

describe('signed cookies of the login routes', () => {
  const name = 'tongban_national_abcdefghijkl';

  it('finds a cookie as the cookies package does: first match, leading spaces, quotes, no prefix confusion', () => {
    assert.equal(requestCookie(contextWith('a=1;  b=2; b=3'), 'b'), '2');
    assert.equal(requestCookie(contextWith('xb=1; b="quoted"'), 'b'), 'quoted');
    assert.equal(requestCookie(contextWith('xb=1'), 'b'), undefined);
    assert.equal(requestCookie(contextWith(undefined), 'b'), undefined);
    for (const header of ['a=1;  b=2; b=3', 'xb=1; b="quoted"', 'xb=1', 'b=']) {
      assert.equal(requestCookie(contextWith(header), 'b'), contextWith(header).cookies.get('b', { signed: false }), header);
    }
  });

  it('accepts a value signed under the current or an older key, and nothing else', () => {
    for (const read of [signedCookie, signedCookieOnce]) {
      assert.equal(read(contextWith(signedPair(name, 'state-1', keys[0]!)), name), 'state-1');
      assert.equal(read(contextWith(signedPair(name, 'state-1', keys[1]!)), name), 'state-1');
      assert.equal(read(contextWith(signedPair(name, 'state-1', 'a-key-of-someone-else')), name), undefined);
      assert.equal(read(contextWith(`${name}=state-1`), name), undefined, 'no signature');
      const [, signature] = signedPair(name, 'state-1', keys[0]!).split('; ');
      assert.equal(read(contextWith(`${name}=state-2; ${signature}`), name), undefined, 'the signature of another value');
    }
  });

  it('leaves a cookie whose name changes from login to login out of the cookies package', () => {
    const ctx = contextWith(signedPair(name, 'state-1', keys[1]!));
    ctx.cookies.get = () => assert.fail('ctx.cookies.get keeps a pattern per cookie name for the life of the process');
    assert.equal(signedCookieOnce(ctx, name), 'state-1');
    assert.equal(signedCookieOnce(contextWith(signedPair(name, 'state-1', 'other')), name), undefined);
  });
});

describe('the interaction of a login request', () => {
  function fakeProvider(records: Record<string, Partial<InteractionDetails>>, sessions: Record<string, { accountId?: string }> = {}) {
    const reads: string[] = [];
    const provider = {
      cookieName: (kind: string) => `tongban_${kind}`,
      Interaction: { find: async (uid: string) => (reads.push(uid), records[uid] as InteractionDetails | undefined) },
      Session: { findByUid: async (uid: string) => sessions[uid] },
    } as unknown as Provider;
    return { provider, reads };
  }

  it('is read once per request, by the language choice and the route alike', async () => {
    const { provider, reads } = fakeProvider({ uid1: { uid: 'uid1', iat: 100, params: { ui_locales: 'en' } } });
    const ctx = contextWith(signedPair('tongban_interaction', 'uid1', keys[0]!));
    assert.deepEqual(await loginLocalesOf(provider)('uid1', ctx), { uiLocales: 'en', createdAt: 100 });
    assert.equal((await interactionDetails(provider, ctx)).uid, 'uid1');
    assert.equal((await interactionNamed(provider, ctx, 'uid1'))?.uid, 'uid1');
    assert.deepEqual(reads, ['uid1']);
    await interactionNamed(provider, contextWith(undefined), 'uid1');
    assert.deepEqual(reads, ['uid1', 'uid1'], 'another request reads again');
  });

  it('is checked as oidc-provider checks it: the signed cookie, and the session the login began in', async () => {
    const { provider, reads } = fakeProvider({
      mine: { uid: 'mine', session: { uid: 's1', accountId: 'a1', cookie: 'c' } },
      moved: { uid: 'moved', session: { uid: 's2', accountId: 'a1', cookie: 'c' } },
      gone: { uid: 'gone', session: { uid: 's3', accountId: 'a1', cookie: 'c' } },
    }, { s1: { accountId: 'a1' }, s2: { accountId: 'a2' } });
    const cookieFor = (uid: string) => signedPair('tongban_interaction', uid, keys[0]!);
    const refusal = (description: string) => (error: { name?: string; error_description?: string }) => error.name === 'SessionNotFound' && error.error_description === description;
    assert.equal((await interactionDetails(provider, contextWith(cookieFor('mine')))).uid, 'mine');
    await assert.rejects(interactionDetails(provider, contextWith(cookieFor('moved'))), refusal('session principal changed'));
    await assert.rejects(interactionDetails(provider, contextWith(cookieFor('gone'))), refusal('session not found'));
    await assert.rejects(interactionDetails(provider, contextWith(cookieFor('none'))), refusal('interaction session not found'));
    await assert.rejects(interactionDetails(provider, contextWith('tongban_interaction=mine')), refusal('interaction session id cookie not found'));
    await assert.rejects(interactionDetails(provider, contextWith(signedPair('tongban_interaction', 'mine', 'other'))), refusal('interaction session id cookie not found'));
    assert.deepEqual(reads, ['mine', 'moved', 'gone', 'none']);
  });

  it('ends as interactionResult does: merged with the last submission unless an error, saved for what is left of it', async () => {
    const saved: number[] = [];
    const exp = Math.floor(Date.now() / 1000) + 300;
    const interaction = (): InteractionDetails => ({
      exp, returnTo: '/auth/uid1', lastSubmission: { login: { accountId: 'a1' } },
      save: async (ttl: number) => (saved.push(ttl), 'uid1'),
    }) as unknown as InteractionDetails;
    const merged = interaction();
    assert.equal(await endInteraction(merged, { consent: { grantId: 'g1' } }, { mergeWithLastSubmission: true }), '/auth/uid1');
    assert.deepEqual(merged.result, { login: { accountId: 'a1' }, consent: { grantId: 'g1' } });
    const refused = interaction();
    await endInteraction(refused, { error: 'access_denied' }, { mergeWithLastSubmission: true });
    assert.deepEqual(refused.result, { error: 'access_denied' });
    const alone = interaction();
    await endInteraction(alone, { consent: {} }, { mergeWithLastSubmission: false });
    assert.deepEqual(alone.result, { consent: {} });
    assert.ok(saved.every((ttl) => ttl > 290 && ttl <= 300), `ttl ${saved.join()}`);
  });
});
