/**
 * oidc-provider's endpoints for programs (token, userinfo, introspection, revocation, the key set,
 * discovery) are the busiest paths of the broker, and none of the broker's pages, routers or
 * page-only middleware has anything to do there. `pagesOnly` lets such a middleware step aside on
 * those paths at the cost of one set lookup, instead of each router matching its routes and each
 * wrapper adding its frames to every token request.
 */
export type ProgramEndpoints = ReadonlySet<string>;

/** The paths of oidc-provider's endpoints for programs, as `provider.pathFor` names them. */
export function programEndpointsOf(provider: { pathFor(name: string): string }): ProgramEndpoints {
  return new Set(['token', 'userinfo', 'introspection', 'revocation', 'jwks', 'discovery'].map((name) => provider.pathFor(name)));
}

/** Any koa middleware (routers' and narrower ones included), typed as it was given. */
type AnyMiddleware = (ctx: never, next: () => Promise<unknown>) => unknown;

/** `middleware` everywhere but on the program endpoints, where the request goes straight on. */
export function pagesOnly<M extends AnyMiddleware>(endpoints: ProgramEndpoints, middleware: M): M {
  const run = middleware as unknown as (ctx: unknown, next: () => Promise<unknown>) => unknown;
  return ((ctx: { readonly path: string }, next: () => Promise<unknown>) => (endpoints.has(ctx.path) ? next() : run(ctx, next))) as unknown as M;
}
