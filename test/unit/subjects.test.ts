/** Keyed derivations: remembering recent ones never changes what they derive. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createDerive } from '../../broker/identity/subjects.ts';

const direct = (secret: string, sector: string, value: string) =>
  createHmac('sha256', secret).update(sector).update('\u0000').update(value).digest('base64url');

describe('keyed derivations', () => {
  it('derive the same with and without recent ones remembered, past the bound, for every secret', () => {
    const derive = createDerive('secret-one', 3);
    const other = createDerive('secret-two', 3);
    for (let round = 0; round < 2; round += 1) {
      for (const value of ['a', 'b', 'c', 'd', 'e']) {
        for (const sector of ['tongban:account', 'tongban:sub:330000']) {
          assert.equal(derive(sector, value), direct('secret-one', sector, value));
          assert.equal(other(sector, value), direct('secret-two', sector, value));
        }
      }
    }
    assert.notEqual(derive('tongban:account', 'a'), other('tongban:account', 'a'));
  });
});
