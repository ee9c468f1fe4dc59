import assert from 'node:assert/strict';
import {
  creditCodeCheckChar, isValidCreditCode, isValidResidentId, parseCreditCode, parseResidentId, provinceOf, residentIdCheckChar,
} from '../../broker/identity/identifiers.ts';
import { acrOf, levelFromNationalAcr, levelOfAcr } from '../../broker/identity/assurance.ts';

describe('identifiers', () => {
  it('computes the GB 11643 check character (r = 2 → X, r = 0 → 1)', () => {
    // Built from the algorithm in shared/reference/identifiers.md.
    const base = '33010619900307123';
    const check = residentIdCheckChar(base);
    assert.ok(isValidResidentId(base + check));
    const wrong = check === '0' ? '1' : '0';
    assert.equal(isValidResidentId(base + wrong), false);
    // Some sequence gives r = 2 (check X): find it and check the lower-case form is normalised.
    const first17 = Array.from({ length: 1000 }, (_, n) => `11010519900101${String(n).padStart(3, '0')}`)
      .find((candidate) => residentIdCheckChar(candidate) === 'X');
    assert.ok(first17);
    assert.ok(isValidResidentId(`${first17}x`));
    assert.equal(parseResidentId(`${first17}x`)!.value, `${first17}X`);
  });

  it('extracts birth date and sex, refuses impossible dates and bad division codes', () => {
    const base = '33010619900307123';
    const facts = parseResidentId(base + residentIdCheckChar(base))!;
    assert.equal(facts.birthDate, '1990-03-07');
    assert.equal(facts.sex, 'male');
    const badDate = '33010619900231123';
    assert.equal(parseResidentId(badDate + residentIdCheckChar(badDate)), undefined);
    const badDivision = '00010619900307123';
    assert.equal(parseResidentId(badDivision + residentIdCheckChar(badDivision)), undefined);
    assert.equal(parseResidentId('12345'), undefined);
  });

  it('computes the GB 32100 check character and refuses bad alphabets', () => {
    const first17 = '91330400MA2B3C4D5';
    const code = first17 + creditCodeCheckChar(first17);
    assert.ok(isValidCreditCode(code));
    assert.equal(parseCreditCode(code)!.divisionCode, '330400');
    const last = code[17] === 'A' ? 'B' : 'A';
    assert.equal(isValidCreditCode(code.slice(0, 17) + last), false);
    assert.equal(isValidCreditCode('91330400MA2B3C4DI0'), false, 'I is not in the alphabet');
  });

  it('derives the province of a division code', () => {
    assert.equal(provinceOf('330421'), '330000');
  });
});

describe('assurance scale', () => {
  it('maps acr values both ways and refuses unknown ones', () => {
    assert.equal(levelOfAcr(acrOf(3)), 3);
    assert.equal(levelOfAcr('urn:tongban:loa:9'), undefined);
    assert.equal(levelOfAcr('loa3'), undefined);
    assert.equal(levelFromNationalAcr('urn:cn:gov:zwfw:loa:4'), 4);
    assert.equal(levelFromNationalAcr(4), undefined);
  });
});
