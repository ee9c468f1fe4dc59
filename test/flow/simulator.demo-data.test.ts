/**
 * The simulator's demo data and the requested-level rule, checked without starting it: synthetic
 * identifiers that pass their check algorithms.
 */
import { strict as assert } from 'node:assert';
import { creditCodeCheckChar, organisationCodeCheckChar, parseCreditCode, parseResidentId, residentIdCheckChar } from '../../broker/identity/identifiers.ts';
import { demoAccounts, demoCompanies, requestedLevel } from '../../scripts/dev/simulator/index.ts';

describe('national-platform simulator', function () {
  describe('demo data', function () {
    it('uses synthetic resident ID numbers that pass the GB 11643 check', function () {
      for (const account of demoAccounts) {
        const facts = parseResidentId(account.certNo);
        assert.ok(facts, `${account.username}'s ID number must be valid`);
        assert.equal(residentIdCheckChar(account.certNo.slice(0, 17)), account.certNo[17]);
      }
    });

    it('uses synthetic credit codes whose check characters are right', function () {
      assert.deepEqual(Object.values(demoCompanies).map((c) => c.creditCode), [
        '91330402MA2TB0J167', '91320505MA2TB0K20P', '91340104MA2TB0H3XC', '91310115MA2TB0U40X',
      ]);
      for (const company of Object.values(demoCompanies)) {
        const code = company.creditCode;
        assert.ok(parseCreditCode(code), `${company.name} must have a valid code`);
        assert.equal(creditCodeCheckChar(code.slice(0, 17)), code[17]);
        assert.equal(organisationCodeCheckChar(code.slice(8, 16)), code[16]);
        assert.equal(code.slice(2, 8), company.division);
      }
      const divisions = Object.values(demoCompanies).map((c) => c.division.slice(0, 4));
      assert.ok(divisions.includes('3205'), 'a Suzhou company');
      assert.ok(divisions.includes('3401'), 'a Hefei company');
    });

    it('reads the requested level as the lowest acceptable one', function () {
      assert.equal(requestedLevel({ acr_values: 'urn:cn:gov:zwfw:loa:4' }), 4);
      assert.equal(requestedLevel({ acr_values: 'urn:cn:gov:zwfw:loa:4 urn:cn:gov:zwfw:loa:3' }), 3);
      assert.equal(requestedLevel({ claims: JSON.stringify({ id_token: { acr: { essential: true, value: 'urn:cn:gov:zwfw:loa:4' } } }) }), 4);
      assert.equal(requestedLevel({ acr_values: 'urn:tongban:loa:4' }), undefined);
      assert.equal(requestedLevel({}), undefined);
    });
  });
});
