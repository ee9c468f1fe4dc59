/**
 * `npm start`: a small federation a person can click through, on one machine with the SQLite store —
 * the national-platform simulator (:3100), the broker (:3000), demo portals of 杭州 (:3200) and 上海
 * (:3201), and the 上海 公积金 service (:3300: its API and its 材料免交 desk).
 *
 * Ports and URLs: TONGBAN_* for the broker (see config/defaults.ts), SIMULATOR_PORT for the
 * simulator, PORTAL_PORT and SHANGHAI_PORTAL_PORT for the portals, DEMO_SERVICE_PORT for the service.
 * Each portal and the desk is the configured client whose redirect URI is on its address. A config file (TONGBAN_CONFIG) replaces config/demo.json;
 * the operator CLIs follow the same rule (scripts/cli/configuration.ts), so they see this broker.
 */
import { pathToFileURL } from 'node:url';
import { createBroker, type Broker } from '../../broker/broker.ts';
import { routes } from '../../config/defaults.ts';
import { ConfigError } from '../../config/load.ts';
import { developmentBanner } from '../cli/banner.ts';
import { configurationLine, loadProgramConfig } from '../cli/configuration.ts';
import { createDemoPortal, type DemoPortal } from './demo-portal/index.ts';
import { createDemoService, demoHousingFundResource, housingFundScope, type DemoService } from './demo-service/index.ts';
import { demoAccounts, demoPassword, type NationalSimulator } from './simulator/index.ts';
import { runSimulator } from './simulator.ts';

export interface Demo {
  readonly brokerUrl: string;
  readonly simulatorUrl: string;
  /** The first portal (杭州). */
  readonly portalUrl: string;
  /** Every portal started, by city code (e.g. 330100 杭州, 310000 上海). */
  readonly portals: ReadonlyArray<{ readonly city: string; readonly title: string; readonly url: string }>;
  /** The 公积金 API's identifier (`<service>/api`). */
  readonly serviceUrl: string;
  /** The 公积金 service's 材料免交 desk (its web pages), when a client is configured for it. */
  readonly deskUrl?: string;
  stop(): Promise<void>;
}

interface Stoppable { stop(): Promise<void> }

export async function startDemo(env: NodeJS.ProcessEnv = process.env): Promise<Demo> {
  const portalSpecs = [
    { port: Number(env.PORTAL_PORT ?? 3200), cookieName: 'demo_portal_sid' },
    { port: Number(env.SHANGHAI_PORTAL_PORT ?? 3201), cookieName: 'demo_portal_shanghai_sid' },
  ].map((p) => ({ ...p, url: `http://127.0.0.1:${p.port}` }));
  const servicePort = Number(env.DEMO_SERVICE_PORT ?? 3300);
  const serviceBase = `http://127.0.0.1:${servicePort}`;
  const serviceIdentifier = `${serviceBase}/api`;
  const configured = loadProgramConfig(env, 'demo').config.clients;
  const clientAt = (base: string) => configured.find((c) => c.redirect_uris.some((uri) => uri.startsWith(`${base}/`)));
  const portalClients = portalSpecs.map((p) => ({ ...p, client: clientAt(p.url) })).filter((p) => p.client?.client_secret);
  const deskClient = clientAt(serviceBase);
  const first = portalClients[0];
  if (!first || first.port !== portalSpecs[0]!.port) throw new Error(`no configured client redirects to the demo portal at ${portalSpecs[0]!.url}`);
  // The 公积金 service of 上海 accepts tokens the 杭州 portal asks for on the person's behalf.
  const { config } = loadProgramConfig(env, 'demo', { resources: [demoHousingFundResource(serviceIdentifier, [first.client!.client_id])] });
  const simulator: NationalSimulator = await runSimulator({
    ...env,
    SIMULATOR_ISSUER: config.national.issuer,
    SIMULATOR_PORT: env.SIMULATOR_PORT ?? new URL(config.national.issuer).port,
    SIMULATOR_CLIENT_ID: config.national.clientId,
    SIMULATOR_CLIENT_SECRET: config.national.clientSecret,
    SIMULATOR_REDIRECT_URI: new URL(routes.nationalCallback, config.issuer).href,
    SIMULATOR_POST_LOGOUT_REDIRECT_URI: new URL(routes.nationalLoggedOut, config.issuer).href,
  });
  const started: Stoppable[] = [simulator];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop();
  };
  const deskUrl = deskClient?.client_secret ? serviceBase : undefined;
  try {
    const broker: Broker = await createBroker(config);
    await broker.start();
    started.push(broker);
    const service: DemoService = createDemoService({
      brokerIssuer: config.issuer, identifier: serviceIdentifier, port: servicePort,
      ...(deskClient?.client_secret ? { desk: { brokerIssuer: config.issuer, clientId: deskClient.client_id, clientSecret: deskClient.client_secret, baseUrl: serviceBase, licenceLibrary: `${simulator.issuer}/licence-library` } } : {}),
    });
    await service.start();
    started.push(service);
    for (const [i, p] of portalClients.entries()) {
      const client = p.client!;
      const others = portalClients.filter((o) => o !== p).map((o) => ({ label: o.client!.client_name ?? o.client!.client_id, url: `${o.url}/` }));
      const portal: DemoPortal = createDemoPortal({
        brokerIssuer: config.issuer,
        clientId: client.client_id,
        clientSecret: client.client_secret!,
        baseUrl: p.url,
        port: p.port,
        title: client.client_name ?? client.client_id,
        scope: client.scope ?? 'openid profile',
        ...(client.city ? { city: client.city } : {}),
        cookieName: p.cookieName,
        ...(i === 0 ? { services: [{ label: '查询上海公积金', labelEn: 'Shanghai housing fund account', resource: serviceIdentifier, scope: housingFundScope, url: `${serviceIdentifier}/housing-fund/account` }] } : {}),
        links: [...others, ...(deskUrl ? [{ label: '上海公积金提取（材料免交）', labelEn: 'Shanghai housing fund withdrawal (no papers to upload)', url: `${deskUrl}/` }] : [])],
      });
      await portal.start();
      started.push(portal);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    brokerUrl: config.issuer,
    simulatorUrl: simulator.issuer,
    portalUrl: first.url,
    portals: portalClients.map((p) => ({ city: p.client!.city ?? '', title: p.client!.client_name ?? p.client!.client_id, url: p.url })),
    serviceUrl: serviceIdentifier,
    ...(deskUrl ? { deskUrl } : {}),
    stop: stopAll,
  };
}

async function main(): Promise<void> {
  const { config, source } = loadProgramConfig(process.env, 'demo');
  const banner = developmentBanner(config);
  if (banner) process.stderr.write(banner);
  process.stderr.write(configurationLine('demo', config, source));
  const demo = await startDemo();
  console.log(`
  通办 tongban demo
  ────────────────────────────────────────────────────────────
${demo.portals.map((p) => `  portal ${p.city}         ${p.url}      ${p.title}`).join('\n')}
                         ← open one, press 以个人身份登录 / 以企业身份登录 / 需要人脸核验 (4级)
  公积金 材料免交 (上海)  ${demo.deskUrl ?? '(no client configured)'}
  公积金 API (上海)       ${demo.serviceUrl}
  tongban broker         ${demo.brokerUrl}      (discovery: ${demo.brokerUrl}/.well-known/openid-configuration)
  national simulator     ${demo.simulatorUrl}
  demo accounts          ${demoAccounts.map((a) => a.username).join(', ')} — password ${demoPassword}
`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    demo.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : `tongban demo failed to start: ${(error as Error).message}`);
    process.exit(1);
  });
}
