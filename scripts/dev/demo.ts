/**
 * `npm start`: the whole federation on one machine with the SQLite store — the national-platform
 * simulator (:3100), the broker (:3000) and a demo portal of 杭州 (:3200).
 *
 * Ports and URLs: TONGBAN_* for the broker (see config/defaults.ts), SIMULATOR_PORT for the
 * simulator, PORTAL_PORT for the portal. A config file (TONGBAN_CONFIG) replaces config/demo.json;
 * the operator CLIs follow the same rule (scripts/cli/configuration.ts), so they see this broker.
 */
import { pathToFileURL } from 'node:url';
import { createBroker, type Broker } from '../../broker/broker.ts';
import { routes } from '../../config/defaults.ts';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { developmentBanner } from '../cli/banner.ts';
import { configSourceOf, configurationLine, loadProgramConfig } from '../cli/configuration.ts';
import { createDemoPortal, type DemoPortal } from './demo-portal/index.ts';
import { createDemoService, demoHousingFundResource, housingFundScope, type DemoService } from './demo-service/index.ts';
import { demoAccounts, demoPassword, type NationalSimulator } from './simulator/index.ts';
import { runSimulator } from './simulator.ts';

export interface Demo {
  readonly brokerUrl: string;
  readonly simulatorUrl: string;
  readonly portalUrl: string;
  readonly serviceUrl: string;
  stop(): Promise<void>;
}

export async function startDemo(env: NodeJS.ProcessEnv = process.env): Promise<Demo> {
  const file = configSourceOf(env, 'demo').file ?? '';
  const portalPort = Number(env.PORTAL_PORT ?? 3200);
  const portalUrl = `http://127.0.0.1:${portalPort}`;
  const servicePort = Number(env.DEMO_SERVICE_PORT ?? 3300);
  const serviceIdentifier = `http://127.0.0.1:${servicePort}/api`;
  const portalClient = loadConfig({ env, file }).clients.find((c) => c.redirect_uris.some((uri) => uri.startsWith(portalUrl)));
  // The 公积金 service of 上海 accepts tokens the 杭州 portal asks for on the person's behalf.
  const config = loadConfig({ env, file, overrides: { resources: [demoHousingFundResource(serviceIdentifier, portalClient ? [portalClient.client_id] : [])] } });
  const simulator: NationalSimulator = await runSimulator({
    ...env,
    SIMULATOR_ISSUER: config.national.issuer,
    SIMULATOR_PORT: env.SIMULATOR_PORT ?? new URL(config.national.issuer).port,
    SIMULATOR_CLIENT_ID: config.national.clientId,
    SIMULATOR_CLIENT_SECRET: config.national.clientSecret,
    SIMULATOR_REDIRECT_URI: new URL(routes.nationalCallback, config.issuer).href,
  });
  let broker: Broker | undefined;
  let portal: DemoPortal | undefined;
  let service: DemoService | undefined;
  try {
    broker = await createBroker(config);
    await broker.start();
    const client = portalClient;
    if (!client?.client_secret) throw new Error(`no configured client redirects to the demo portal at ${portalUrl}`);
    service = createDemoService({ brokerIssuer: config.issuer, identifier: serviceIdentifier, port: servicePort });
    await service.start();
    portal = createDemoPortal({
      brokerIssuer: config.issuer,
      clientId: client.client_id,
      clientSecret: client.client_secret,
      baseUrl: portalUrl,
      port: portalPort,
      title: client.client_name ?? client.client_id,
      scope: client.scope ?? 'openid profile',
      cookieName: 'demo_portal_sid',
      services: [{ label: '查询上海公积金 · Shanghai housing fund', resource: serviceIdentifier, scope: housingFundScope, url: `${serviceIdentifier}/housing-fund/account` }],
    });
    await portal.start();
  } catch (error) {
    await portal?.stop();
    await service?.stop();
    await broker?.stop();
    await simulator.stop();
    throw error;
  }
  return {
    brokerUrl: config.issuer,
    simulatorUrl: simulator.issuer,
    portalUrl,
    serviceUrl: serviceIdentifier,
    async stop() {
      await portal?.stop();
      await service?.stop();
      await broker?.stop();
      await simulator.stop();
    },
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
  demo portal (杭州)     ${demo.portalUrl}      ← open this, press 登录
  公积金 service (上海)  ${demo.serviceUrl}
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
