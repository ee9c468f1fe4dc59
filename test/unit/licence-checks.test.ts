/**
 * Issue 16's bad input, one check at a time and without a simulator: `tongban/verify`'s licence
 * verifier on each kind of wrong document (malformed, another authority's key, not yet valid,
 * wrong type, a forged or missing revocation list, the library down), and the broker's client of
 * the national library, which turns every odd answer into an error, never a partial list; and the
 * simulator's library holds what issue 16 item 1 lists.
 */
import assert from 'node:assert/strict';
import { CompactSign, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { createLicenceVerifier, LicenceErrorCode } from '../../broker/verify/index.ts';
import { createLicenceLibraryClient, LibraryError } from '../../broker/licences/index.ts';
import { createLicenceLibrary } from '../../scripts/dev/simulator/licence-library.ts';
import { demoAccounts, demoCompanies } from '../../scripts/dev/simulator/index.ts';

const library = 'https://library.example/licence-library';
const holder = '310115198211034681';
const now = () => Math.floor(Date.now() / 1000);

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

async function sign(key: KeyPair, header: Record<string, unknown>, payload: unknown): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: 'ES256', ...header }).sign(key.privateKey);
}

function json(body: unknown, status = 200): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

describe('licence verification, check by check', () => {
  let police: KeyPair;
  let regulator: KeyPair;
  let libraryKey: KeyPair;
  let keys: JWK[];
  let revocations: string;
  let down = false;

  const licence = (overrides: Record<string, unknown> = {}) => ({
    iss: 'GA310000', jti: 'SFZ-1', number: 'SFZ-1', iat: now() - 60, nbf: now() - 60, exp: now() + 3600,
    licence_type: 'id_card', licence_name: '居民身份证', holder: { id_type: 'resident_id', id: holder, name: '赵六' },
    issuer: { code: 'GA310000', name: '上海市公安局' }, issued_on: '2025-11-01', valid_until: '2035-10-30', fields: {}, ...overrides,
  });
  const fakeFetch = (async (input: string | URL | Request) => {
    if (down) throw new TypeError('fetch failed');
    const path = String(input).slice(library.length);
    if (path === '/jwks') return json({ keys });
    if (path === '/revocations') return new Response(revocations, { headers: { 'content-type': 'application/jwt' } });
    return json({}, 404);
  }) as typeof fetch;
  const verifier = () => createLicenceVerifier({ library, fetch: fakeFetch, cacheMaxAgeSeconds: 0 });

  before(async () => {
    [police, regulator, libraryKey] = await Promise.all([generateKeyPair('ES256'), generateKeyPair('ES256'), generateKeyPair('ES256')]);
    keys = [
      { ...(await exportJWK(police.publicKey)), kid: 'GA310000-k', authority: 'GA310000' } as JWK,
      { ...(await exportJWK(regulator.publicKey)), kid: 'SC320500-k', authority: 'SC320500' } as JWK,
      { ...(await exportJWK(libraryKey.publicKey)), kid: 'licence-library' },
    ];
  });
  beforeEach(async () => {
    down = false;
    revocations = await sign(libraryKey, { typ: 'licence-revocations+jwt', kid: 'licence-library' }, { iss: 'library', iat: now(), exp: now() + 3600, revoked: [{ number: 'SFZ-REVOKED' }] });
  });

  it('accepts a licence signed by its authority, of the holder, in its dates, not revoked', async () => {
    const verified = await verifier().verify(await sign(police, { typ: 'licence+jwt', kid: 'GA310000-k' }, licence()), { holder, type: 'id_card' });
    assert.equal(verified.issuer.name, '上海市公安局');
    assert.equal(verified.number, 'SFZ-1');
  });

  it('refuses what is not a licence+jwt: ERR_LICENCE_MALFORMED', async () => {
    await assert.rejects(verifier().verify('not-a-jws', { holder }), { code: LicenceErrorCode.malformed });
    await assert.rejects(verifier().verify(await sign(police, { typ: 'JWT', kid: 'GA310000-k' }, licence()), { holder }), { code: LicenceErrorCode.malformed });
    const { number: _number, ...withoutNumber } = licence();
    await assert.rejects(verifier().verify(await sign(police, { typ: 'licence+jwt', kid: 'GA310000-k' }, withoutNumber), { holder }), { code: LicenceErrorCode.malformed });
  });

  it('refuses a licence signed with another authority\'s published key: ERR_LICENCE_UNKNOWN_AUTHORITY', async () => {
    // A genuine signature, but by the 苏州 market regulator, on a document naming 上海市公安局.
    const forged = await sign(regulator, { typ: 'licence+jwt', kid: 'SC320500-k' }, licence());
    await assert.rejects(verifier().verify(forged, { holder }), { code: LicenceErrorCode.unknownAuthority });
    // The library's own key signs revocation lists, never licences.
    const byLibrary = await sign(libraryKey, { typ: 'licence+jwt', kid: 'licence-library' }, licence());
    await assert.rejects(verifier().verify(byLibrary, { holder }), { code: LicenceErrorCode.unknownAuthority });
  });

  it('refuses a licence not yet valid, of another type, of another holder', async () => {
    const future = await sign(police, { typ: 'licence+jwt', kid: 'GA310000-k' }, licence({ nbf: now() + 600 }));
    await assert.rejects(verifier().verify(future, { holder }), { code: LicenceErrorCode.notYetValid });
    const card = await sign(police, { typ: 'licence+jwt', kid: 'GA310000-k' }, licence());
    await assert.rejects(verifier().verify(card, { holder, type: 'household_register' }), { code: LicenceErrorCode.wrongType });
    await assert.rejects(verifier().verify(card, { holder: '330402199001011234' }), { code: LicenceErrorCode.wrongHolder });
  });

  it('refuses a revoked licence; a forged or stale revocation list or a library down fails closed', async () => {
    const revoked = await sign(police, { typ: 'licence+jwt', kid: 'GA310000-k' }, licence({ number: 'SFZ-REVOKED', jti: 'SFZ-REVOKED' }));
    await assert.rejects(verifier().verify(revoked, { holder }), { code: LicenceErrorCode.revoked });
    const card = await sign(police, { typ: 'licence+jwt', kid: 'GA310000-k' }, licence());
    // An empty list signed by an authority rather than the library proves nothing.
    revocations = await sign(police, { typ: 'licence-revocations+jwt', kid: 'licence-library' }, { iat: now(), exp: now() + 3600, revoked: [] });
    await assert.rejects(verifier().verify(card, { holder }), { code: LicenceErrorCode.libraryUnavailable });
    revocations = await sign(libraryKey, { typ: 'licence-revocations+jwt', kid: 'licence-library' }, { iat: now() - 7200, exp: now() - 3600, revoked: [] });
    await assert.rejects(verifier().verify(card, { holder }), { code: LicenceErrorCode.libraryUnavailable });
    down = true;
    await assert.rejects(verifier().verify(card, { holder }), { code: LicenceErrorCode.libraryUnavailable });
  });
});

describe('the broker\'s client of the national licence library', () => {
  const document = 'eyJhbGciOiJFUzI1NiJ9.eyJ9.c2ln';
  const client = (answer: () => Response | Promise<Response>) => createLicenceLibraryClient({ libraryUrl: library, timeoutMs: 200, fetch: (async () => answer()) as typeof fetch });
  const fetchOf = (answer: () => Response | Promise<Response>) => client(answer).fetchLicences({ nationalAccessToken: 'national', types: ['id_card'] });
  const failure = (kind: string) => (error: unknown) => error instanceof LibraryError && error.failure === kind;

  it('passes the documents through unchanged', async () => {
    assert.deepEqual(await fetchOf(() => json({ licences: [{ type: 'id_card', number: 'SFZ-1', document }] })), [{ type: 'id_card', document }]);
  });

  it('never hands over a partial or odd answer', async () => {
    await assert.rejects(fetchOf(() => json('not json')), failure('malformed'));
    await assert.rejects(fetchOf(() => json({ items: [] })), failure('malformed'));
    await assert.rejects(fetchOf(() => json({ licences: [{ type: 'id_card', document }, { type: 'marriage_certificate', document }] })), failure('malformed'));
    await assert.rejects(fetchOf(() => json({ licences: [{ type: 'id_card', document: '<html>' }] })), failure('malformed'));
  });

  it('maps the library\'s refusals and outages', async () => {
    await assert.rejects(fetchOf(() => json({ error: 'invalid_token' }, 401)), failure('unauthorized'));
    await assert.rejects(fetchOf(() => json({ error: 'access_denied' }, 403)), failure('refused'));
    await assert.rejects(fetchOf(() => json({ error: 'server_error' }, 500)), failure('unavailable'));
    await assert.rejects(fetchOf(() => Promise.reject(new TypeError('fetch failed'))), failure('unavailable'));
  });
});

describe('the simulator\'s national licence library (issue 16 item 1)', () => {
  it('holds each person\'s ID card and 户口簿, one 结婚证, each company\'s 营业执照, one expired and one revoked', async () => {
    const library = await createLicenceLibrary('http://simulator.example', now);
    for (const account of demoAccounts) {
      assert.deepEqual(library.licencesOf(account.certNo, ['id_card', 'household_register']).map((r) => r.type).sort(), ['household_register', 'id_card'], account.username);
    }
    assert.equal(demoAccounts.flatMap((a) => library.licencesOf(a.certNo, ['marriage_certificate'])).length, 1);
    for (const company of Object.values(demoCompanies)) assert.equal(library.licencesOf(company.creditCode, ['business_licence']).length, 1, company.name);
    const all = [...demoAccounts.map((a) => a.certNo), ...Object.values(demoCompanies).map((c) => c.creditCode)].flatMap((id) => library.licencesOf(id, ['id_card', 'household_register', 'marriage_certificate', 'business_licence']));
    assert.equal(all.filter((r) => Number(decodeJwt(r.document).exp) < now()).length >= 1, true, 'an expired licence');
    assert.equal(library.revoked.length, 1, 'one revoked licence');
    assert.ok(all.some((r) => r.number === library.revoked[0]!.number));
  });
});
