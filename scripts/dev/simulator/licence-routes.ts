/**
 * The licence library's HTTP interface on the simulator: its public keys, its signed revocation
 * list, and the licences of the person a national access token (scope `licences`) belongs to, or
 * of a company that person represents (legal representative, or agent whose current mandate covers
 * business registration). Errors are OAuth JSON. Documented in README.md, "Licences".
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { licenceLibraryPath, type LicenceLibrary } from './licence-library.ts';
import type { SimulatorState } from './state.ts';

/** The mandate scope that lets an agent obtain the company's licences. */
export const licenceMandateScope = 'business_registration';
const companyTypes = new Set(['business_licence']);
const knownTypes = new Set(['id_card', 'household_register', 'marriage_certificate', 'business_licence']);

function refuse(ctx: KoaContextWithOIDC, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  if (status === 401) ctx.set('www-authenticate', `Bearer error="${error}"`);
  ctx.body = { error, error_description: description };
}

export function licenceRoutes(p: Provider, sim: SimulatorState, library: LicenceLibrary) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.method !== 'GET' || !ctx.path.startsWith(`${licenceLibraryPath}/`)) return next();
    const route = ctx.path.slice(licenceLibraryPath.length);
    if (route === '/jwks') {
      ctx.set('cache-control', 'public, max-age=300');
      ctx.body = { keys: library.jwks };
      return undefined;
    }
    if (route === '/revocations') {
      ctx.set('cache-control', 'no-store');
      ctx.type = 'application/jwt';
      ctx.body = await library.revocationList();
      return undefined;
    }
    if (route !== '/licences') return next();
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
    if (!bearer) return refuse(ctx, 401, 'invalid_token', 'a national access token is required');
    const token = await p.AccessToken.find(bearer);
    const person = token?.accountId ? sim.bySub.get(token.accountId) : undefined;
    if (!token || !person) return refuse(ctx, 401, 'invalid_token', 'the access token is not active');
    if (!String(token.scope ?? '').split(' ').includes('licences')) return refuse(ctx, 403, 'insufficient_scope', 'the token lacks the licences scope');
    const types = ctx.query.type === undefined ? [] : [ctx.query.type].flat().flatMap((t) => String(t).split(','));
    if (types.length === 0 || types.some((t) => !knownTypes.has(t))) return refuse(ctx, 400, 'invalid_request', 'type must name licence types');
    const holderParam = typeof ctx.query.holder === 'string' ? ctx.query.holder : undefined;
    let holderId = person.account.certNo;
    if (holderParam && holderParam !== person.account.certNo) {
      const entity = person.entities.find((e) => e.credit_code === holderParam);
      const now = sim.nowSeconds();
      const covered = entity && (entity.role === 'legal_representative'
        || (entity.mandate !== undefined && entity.mandate.expires_at > now && entity.mandate.scope.includes(licenceMandateScope)));
      if (!covered) return refuse(ctx, 403, 'access_denied', 'the person does not represent this holder for its licences');
      if (types.some((t) => !companyTypes.has(t))) return refuse(ctx, 400, 'invalid_request', 'a company holds business licences only');
      holderId = holderParam;
    } else if (types.some((t) => companyTypes.has(t))) {
      return refuse(ctx, 400, 'invalid_request', 'a person holds no business licence; name the company as holder');
    }
    ctx.set('cache-control', 'no-store');
    ctx.body = { licences: library.licencesOf(holderId, types).map(({ type, number, document }) => ({ type, number, document })) };
    return undefined;
  };
}
