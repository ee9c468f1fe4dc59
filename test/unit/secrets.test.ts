/**
 * Stored secrets (broker/members/secrets.ts): a generated secret is kept as a keyed SHA-256, so a
 * wrong one is refused in microseconds, not a 16 MiB scrypt; old scrypt hashes still verify and
 * are upgraded; a person's own secret keeps scrypt.
 *
 * Attack inputs: 200 wrong secrets against a keyed hash (timed), 5 malformed secrets and hashes,
 * 1 hash made under another deployment secret.
 */
import assert from 'node:assert/strict';
import {
  createSecretVerifier, generateSecret, hashGeneratedSecret, hashSecret, isSecretHash, isSlowHash, secretKeyOf,
} from '../../broker/platform/crypto/client-secrets.ts';

describe('stored secrets', function () {
  this.timeout(20_000);
  const key = secretKeyOf('a-deployment-subject-secret-of-32-characters');
  const verifier = createSecretVerifier({ key });

  it('stores a generated secret as a keyed SHA-256 and verifies only the right one', async () => {
    const secret = generateSecret();
    const hash = await verifier.hash(secret);
    assert.match(hash, /^hmac-sha256\$[\w-]{8}\$[\w-]{43}$/);
    assert.equal(isSecretHash(hash), true);
    assert.equal(isSlowHash(hash), false);
    assert.equal(hash.includes(secret), false);
    assert.equal(await verifier.verify(secret, hash), true);
    assert.equal(await verifier.verify(generateSecret(), hash), false);
  });

  it('refuses a flood of 200 wrong secrets cheaply (well under what one scrypt costs each)', async () => {
    const hash = hashGeneratedSecret(generateSecret(), key);
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 200 }, () => verifier.verify(generateSecret(), hash)));
    const elapsedMs = performance.now() - started;
    assert.ok(answers.every((ok) => ok === false));
    // One scrypt (N=16384, r=8) takes tens of milliseconds: 200 of them would take seconds.
    assert.ok(elapsedMs < 500, `200 wrong secrets took ${elapsedMs.toFixed(0)} ms`);
  });

  it('a hash made under another deployment secret never matches', async () => {
    const secret = generateSecret();
    const foreign = hashGeneratedSecret(secret, secretKeyOf('another-deployment-secret-of-32-chars!'));
    assert.equal(await verifier.verify(secret, foreign), false);
    assert.equal(await createSecretVerifier().verify(secret, hashGeneratedSecret(secret, key)), false, 'no key: no keyed match');
  });

  it('still reads an old scrypt hash of a generated secret, and upgrades it once the secret is seen', async () => {
    const secret = generateSecret();
    const old = await hashSecret(secret);
    assert.equal(isSlowHash(old), true);
    let upgraded: string | undefined;
    assert.equal(await verifier.verify(generateSecret(), old, async (keyed) => { upgraded = keyed; }), false);
    assert.equal(upgraded, undefined, 'a wrong secret upgrades nothing');
    assert.equal(await verifier.verify(secret, old, async (keyed) => { upgraded = keyed; }), true);
    assert.ok(upgraded);
    assert.match(upgraded, /^hmac-sha256\$/);
    assert.equal(await verifier.verify(secret, upgraded), true);
  });

  it('keeps scrypt for a secret a person chose (no upgrade), and refuses malformed input', async () => {
    const chosen = 'a secret a person wrote into a configuration file';
    const hash = await hashSecret(chosen);
    let upgraded = false;
    assert.equal(await verifier.verify(chosen, hash, async () => { upgraded = true; }), true);
    assert.equal(upgraded, false);
    for (const [secret, stored] of [['', hash], ['x'.repeat(513), hash], [chosen, 'scrypt$1$1$1$x$y'], [chosen, 'hmac-sha256$x'], [chosen, 'plain']] as const) {
      assert.equal(await verifier.verify(secret, stored), false);
    }
  });
});
