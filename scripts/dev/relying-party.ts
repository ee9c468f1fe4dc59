/**
 * What the demo portals and the demo 公积金 desk do alike as relying parties of the broker: find its
 * configuration once (again after a failure, so a broker started later is found), and keep a
 * browser's demo session in memory under a cookie. Small on purpose: each demo keeps its own routes.
 */
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import * as oidc from 'openid-client';

export interface BrokerClient {
  readonly brokerIssuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
}

/** The broker's discovered configuration, memoised; a failed discovery is tried again next time. */
export function brokerDiscovery(client: BrokerClient): () => Promise<oidc.Configuration> {
  let configuration: Promise<oidc.Configuration> | undefined;
  return () => {
    configuration ??= oidc.discovery(new URL(client.brokerIssuer), client.clientId, { redirect_uris: [client.redirectUri] },
      oidc.ClientSecretBasic(client.clientSecret),
      new URL(client.brokerIssuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };
}

/** In-memory sessions under the cookie `cookieName`: `of(ctx)` finds or starts the browser's one. */
export function cookieSessions<Session extends object>(cookieName: string): { readonly all: Map<string, Session>; of(ctx: Koa.Context): Session } {
  const all = new Map<string, Session>();
  return {
    all,
    of(ctx) {
      let sid = ctx.cookies.get(cookieName);
      if (!sid || !all.has(sid)) {
        sid = randomBytes(16).toString('base64url');
        all.set(sid, {} as Session);
        ctx.cookies.set(cookieName, sid, { httpOnly: true, sameSite: 'lax' });
      }
      return all.get(sid)!;
    },
  };
}
