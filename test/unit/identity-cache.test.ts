/**
 * A node's recent reads of identity records: used only for session-bound tokens, forgotten at once
 * on a local save or removal, and never a source of the assurance level (the token's login is).
 */
import assert from 'node:assert/strict';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AccountStore } from '../../broker/accounts/records.ts';
import { createFindAccount } from '../../broker/accounts/find-account.ts';
import { cacheIdentities } from '../../broker/accounts/cache.ts';
import { acrOf } from '../../broker/identity/assurance.ts';
import type { CanonicalIdentity } from '../../broker/identity/model.ts';
import type { ClaimsRelease, ReleaseRequest } from '../../broker/release/oidc.ts';
import { residentPerson } from '../fixtures/identities.ts';

/** An account store that counts its reads, standing in for the shared store (another node writes to `records`). */
function countingStore() {
  const records = new Map<string, CanonicalIdentity>();
  const counts = { loads: 0 };
  const store: AccountStore = {
    async save(accountId, identity) {
      records.set(accountId, identity);
    },
    async load(accountId) {
      counts.loads += 1;
      return records.get(accountId);
    },
    async remove(accountId) {
      records.delete(accountId);
    },
  };
  return { records, counts, store };
}

const withPhone = (phone: string): CanonicalIdentity => ({ ...residentPerson, person: { ...residentPerson.person, phone } });

function tokenContext(kind: 'AccessToken' | 'RefreshToken', scope: string, acr: string): KoaContextWithOIDC {
  const token = kind === 'AccessToken' ? { scope, extra: { acr } } : { scope, acr };
  return { oidc: { entities: { [kind]: token }, client: { clientId: 'portal' } } } as unknown as KoaContextWithOIDC;
}

describe('identity cache', () => {
  it('answers from memory within its lifetime and reads again after it', async () => {
    const { records, counts, store } = countingStore();
    const cached = cacheIdentities(store, { ttlMs: 40 });
    records.set('acct', withPhone('13800000001'));
    assert.equal((await cached.loadRecent('acct'))?.person.phone, '13800000001');
    records.set('acct', withPhone('13800000002')); // a login on another node
    assert.equal((await cached.loadRecent('acct'))?.person.phone, '13800000001');
    assert.equal(counts.loads, 1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal((await cached.loadRecent('acct'))?.person.phone, '13800000002');
    assert.equal(counts.loads, 2);
    // `load` always reads the store.
    await cached.load('acct');
    assert.equal(counts.loads, 3);
  });

  it('remembers a record saved on this node as written, forgets one removed here at once, never remembers an absent one', async () => {
    const { records, counts, store } = countingStore();
    const cached = cacheIdentities(store, { ttlMs: 60_000 });
    assert.equal(await cached.loadRecent('acct'), undefined);
    records.set('acct', withPhone('13800000001'));
    assert.equal((await cached.loadRecent('acct'))?.person.phone, '13800000001', 'absent is not remembered');
    await cached.save('acct', withPhone('13800000003'), 60);
    assert.equal((await cached.loadRecent('acct'))?.person.phone, '13800000003');
    assert.equal(counts.loads, 2, 'a record saved here is not read back');
    await cached.remove('acct');
    assert.equal(await cached.loadRecent('acct'), undefined);
    assert.equal(counts.loads, 3);
  });

  it('does not keep a read that a local change overtook', async () => {
    const records = new Map<string, CanonicalIdentity>([['acct', withPhone('13800000001')]]);
    let release: () => void = () => undefined;
    const slow: AccountStore = {
      async save(accountId, identity) {
        records.set(accountId, identity);
      },
      async load(accountId) {
        const value = records.get(accountId);
        await new Promise<void>((resolve) => (release = resolve));
        return value;
      },
      async remove(accountId) {
        records.delete(accountId);
      },
    };
    const cached = cacheIdentities(slow, { ttlMs: 60_000 });
    const stale = cached.loadRecent('acct');
    await cached.remove('acct');
    release();
    assert.equal((await stale)?.person.phone, '13800000001');
    const again = cached.loadRecent('acct');
    release();
    assert.equal(await again, undefined, 'the overtaken read was not remembered');
  });

  describe('in findAccount', () => {
    function setUp() {
      const { records, counts, store } = countingStore();
      records.set('acct', residentPerson);
      const released: ReleaseRequest[] = [];
      const release = { claimsFor: (request: ReleaseRequest) => (released.push(request), {}) } as unknown as ClaimsRelease;
      const findAccount = createFindAccount({ accounts: cacheIdentities(store, { ttlMs: 60_000 }), release });
      return { records, counts, released, findAccount };
    }

    it('reuses a recent read for session-bound tokens, with the assurance level of the token', async () => {
      const { counts, released, findAccount } = setUp();
      for (const [kind, level] of [['AccessToken', 2], ['RefreshToken', 3], ['AccessToken', 1]] as const) {
        const account = await findAccount(tokenContext(kind, 'openid profile', acrOf(level)), 'acct');
        await account!.claims('userinfo', 'openid profile', {}, []);
        assert.equal(released.at(-1)!.identity.person.assurance, level);
      }
      assert.equal(counts.loads, 1);
    });

    it('reads the store for offline_access tokens: only the removed identity ends them after logout', async () => {
      const { records, counts, findAccount } = setUp();
      const offline = tokenContext('RefreshToken', 'openid profile offline_access', acrOf(3));
      assert.ok(await findAccount(offline, 'acct'));
      records.delete('acct'); // the account's last session ended on another node
      assert.equal(await findAccount(offline, 'acct'), undefined);
      assert.equal(counts.loads, 2);
    });

    it('reuses a recent read for an authorization code and for the session of the account', async () => {
      const { counts, released, findAccount } = setUp();
      const code = { oidc: { entities: { AuthorizationCode: { scope: 'openid profile', acr: acrOf(2) } } } } as unknown as KoaContextWithOIDC;
      await (await findAccount(code, 'acct'))!.claims('id_token', 'openid profile', {}, []);
      assert.equal(released.at(-1)!.identity.person.assurance, 2);
      const session = { oidc: { entities: {}, session: { accountId: 'acct', acr: acrOf(3) } } } as unknown as KoaContextWithOIDC;
      assert.ok(await findAccount(session, 'acct'));
      assert.equal(counts.loads, 1);
    });

    it('reads the store with neither a token nor a session of the account, and for an offline_access code', async () => {
      const { counts, findAccount } = setUp();
      const other = { oidc: { entities: {}, session: { accountId: 'someone-else', acr: acrOf(3) } } } as unknown as KoaContextWithOIDC;
      await findAccount(other, 'acct');
      await findAccount(other, 'acct');
      const offlineCode = { oidc: { entities: { AuthorizationCode: { scope: 'openid offline_access', acr: acrOf(3) } } } } as unknown as KoaContextWithOIDC;
      await findAccount(offlineCode, 'acct');
      assert.equal(counts.loads, 3);
    });
  });
});
