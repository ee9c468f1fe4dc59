/**
 * The cost of sealing at rest, for `npm run bench`: a micro-benchmark of the cryptographic work a
 * login adds (issue 13), measured in this process under both suites and set beside the broker's
 * measured CPU per login. An A/B of the whole broker with sealing off would need a switch that
 * stores personal data in clear; the broker has none on purpose, so the work is measured alone.
 *
 * One login of a company agent is taken as the worst case, counted from the code paths: sealed
 * records written 4 times (identity, national entitlements at login, legal-person session, grant
 * binding) and opened 5 times (consent page, company page, code redemption, token, userinfo), each
 * about 1 KB; and 25 keyed hashes of store keys (oidc-provider's adapter: interaction, session,
 * code, grant, access and refresh token, each written and read a few times).
 */
import { randomBytes } from 'node:crypto';
import { createSealer } from '../../../broker/platform/crypto/sealing.ts';
import { cryptoSuite, cryptoSuiteNames, type CryptoSuiteName } from '../../../broker/platform/crypto/suite.ts';

export const perLogin = { seals: 4, opens: 5, keyedHashes: 25 } as const;

/** A record of the size the broker seals: a person and two companies with their mandates. */
const sample = {
  identity: {
    person: { name: '张三', idNumber: '330106198504121356', phone: '+8613900000001', assurance: 3, nationalSubject: 'zwfw-7c1e4a9b2d5f4e08' },
    representations: Array.from({ length: 2 }, (_, i) => ({
      organisation: { creditCode: `91330402MA2TB0J16${i}`, name: '嘉兴通办示范科技有限公司', type: 'enterprise', division: '330402' },
      role: 'agent', mandate: { scope: ['tax', 'social_insurance'], expiresAt: 1_900_000_000 },
    })),
  },
  nationalAccessToken: randomBytes(48).toString('base64url'),
};

export interface SealingCost {
  readonly suite: CryptoSuiteName;
  /** Microseconds of CPU per operation. */
  readonly sealUs: number;
  readonly openUs: number;
  readonly keyedHashUs: number;
  /** Milliseconds of CPU per login by the count above. */
  readonly msPerLogin: number;
}

function cpuUs(work: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(200, iterations); i += 1) work();
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i += 1) work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / iterations;
}

export function measureSealing(iterations = 5000): SealingCost[] {
  return cryptoSuiteNames.map((name) => {
    const sealer = createSealer(name, [{ id: 'b1', secret: randomBytes(32) }]);
    const suite = cryptoSuite(name);
    const sealed = sealer.seal(sample, 'identity');
    const key = randomBytes(32);
    const id = randomBytes(32).toString('base64url');
    const sealUs = cpuUs(() => sealer.seal(sample, 'identity'), iterations);
    const openUs = cpuUs(() => sealer.open(sealed, 'identity'), iterations);
    const keyedHashUs = cpuUs(() => suite.keyedHash(key, 'AccessToken', id), iterations * 4);
    const msPerLogin = (perLogin.seals * sealUs + perLogin.opens * openUs + perLogin.keyedHashes * keyedHashUs) / 1000;
    return { suite: name, sealUs, openUs, keyedHashUs, msPerLogin };
  });
}

/** The bench's sealing line(s); with the broker's CPU per login, the share sealing takes of it. */
export function sealingReport(costs: readonly SealingCost[], brokerCpuMsPerLogin?: number): string {
  const lines = costs.map((c) => {
    const share = brokerCpuMsPerLogin ? ` = ${((c.msPerLogin / brokerCpuMsPerLogin) * 100).toFixed(1)}% of the broker's ${brokerCpuMsPerLogin.toFixed(2)} ms` : '';
    return `  ${c.suite.padEnd(13)} seal ${c.sealUs.toFixed(1)} µs, open ${c.openUs.toFixed(1)} µs, keyed hash ${c.keyedHashUs.toFixed(1)} µs → ${c.msPerLogin.toFixed(3)} ms CPU per login${share}`;
  });
  return `sealing at rest (micro-benchmark; per company-agent login ${perLogin.seals} seals + ${perLogin.opens} opens of ~1 KB + ${perLogin.keyedHashes} keyed hashes):\n${lines.join('\n')}`;
}
