/**
 * A demo relying service: the 住房公积金 (housing fund) account query API of 上海, as a city's back
 * office would run it behind tongban. It checks each request's access token with `tongban/verify`
 * alone (issuer URL and its own identifier), needs the `gjj:read` scope, and answers for the
 * person the token names — by the Shanghai pairwise `sub`, never by name or ID number.
 *
 * The account figures are made up from a hash of `sub`: the demo keeps no register of people.
 * Its withdrawal desk shows 材料免交 with electronic licences (licence-desk.ts).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import type { ConfiguredResourceServer } from '../../../broker/resources/types.ts';
import { createVerifier, requireToken, type RefusalLogger, type TokenState } from '../../../broker/verify/index.ts';
import { mountLicenceDesk, type LicenceDeskOptions } from './licence-desk.ts';

export const housingFundScope = 'gjj:read';

export interface DemoServiceOptions {
  /** The broker's issuer URL. */
  readonly brokerIssuer: string;
  /** The service's resource indicator (the `aud` of its tokens), e.g. http://127.0.0.1:3300/api */
  readonly identifier: string;
  readonly port: number;
  readonly host?: string;
  /** Where refusals are logged (default: JSON lines on stderr). */
  readonly logger?: RefusalLogger;
  /** The 材料免交 withdrawal desk at `/` (a web client of tongban of its own); none without it. */
  readonly desk?: LicenceDeskOptions;
}

export interface DemoService {
  readonly identifier: string;
  /** Resolves with the base URL; the account API is `<base>/api/housing-fund/account`. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The registration of the demo service (a `resources` entry of the broker configuration): 上海,
 * JWT access tokens, the `gjj:read` scope, asked for by `clients`.
 *
 * @example
 * const config = loadConfig({ overrides: { resources: [demoHousingFundResource('http://127.0.0.1:3300/api', ['hangzhou-portal'])] } });
 */
export function demoHousingFundResource(identifier: string, clients: readonly string[]): ConfiguredResourceServer {
  return {
    identifier,
    city: '310000',
    name: '上海市住房公积金查询（演示）',
    clients,
    scopes: [housingFundScope],
    accessTokenFormat: 'jwt',
  };
}

function figures(sub: string) {
  const digest = createHash('sha256').update(`demo-housing-fund:${sub}`).digest();
  return {
    account: `31${digest.readUInt32BE(0).toString().padStart(10, '0').slice(0, 10)}`,
    balance_cny: (digest.readUInt32BE(4) % 20_000_000) / 100,
    monthly_deposit_cny: 500 + (digest.readUInt16BE(8) % 4000),
    status: '正常缴存',
  };
}

/**
 * Creates the demo service; nothing listens until `start`.
 *
 * @example
 * const service = createDemoService({ brokerIssuer: 'http://127.0.0.1:3000', identifier: 'http://127.0.0.1:3300/api', port: 3300 });
 * const url = await service.start();
 */
export function createDemoService(options: DemoServiceOptions): DemoService {
  const verifier = createVerifier({ issuer: options.brokerIssuer, audience: options.identifier });
  const app = new Koa();
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/api/housing-fund/account', requireToken({ verifier, scope: housingFundScope, ...(options.logger ? { logger: options.logger } : {}) }), (ctx) => {
    const { claims } = ctx.state.token as TokenState;
    ctx.set('cache-control', 'no-store');
    ctx.body = {
      service: '上海市住房公积金管理中心（演示）',
      city: '310000',
      holder: claims.sub,
      ...figures(claims.sub),
      // Who asked, and how surely the person was identified: what the service would record.
      requested_by: claims.client_id,
      on_behalf_via: claims.act ?? null,
      assurance: claims.acr ?? null,
    };
  });
  if (options.desk) mountLicenceDesk(router, options.desk);
  app.use(router.routes());
  app.use(router.allowedMethods());

  let server: Server | undefined;
  return {
    identifier: options.identifier,
    async start() {
      server = createServer(app.callback());
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
      });
      return `http://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
    },
  };
}
