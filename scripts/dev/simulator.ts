/**
 * Runs the national-platform simulator for the demo: `npm run simulator`.
 *
 * Environment: SIMULATOR_PORT (3100), SIMULATOR_ISSUER (http://127.0.0.1:<port>), and the broker as
 * its client: SIMULATOR_CLIENT_ID, SIMULATOR_CLIENT_SECRET, SIMULATOR_REDIRECT_URI,
 * SIMULATOR_POST_LOGOUT_REDIRECT_URI (defaults match the
 * broker's development configuration).
 */
import { pathToFileURL } from 'node:url';
import {
  createNationalSimulator,
  defaultBrokerClient,
  defaultSimulatorPort,
  demoAccounts,
  demoPassword,
  type NationalSimulator,
} from './simulator/index.ts';

export async function runSimulator(env: NodeJS.ProcessEnv = process.env): Promise<NationalSimulator> {
  const port = env.SIMULATOR_PORT ? Number(env.SIMULATOR_PORT) : defaultSimulatorPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`SIMULATOR_PORT is not a port: ${env.SIMULATOR_PORT}`);
  const broker = defaultBrokerClient();
  const simulator = createNationalSimulator({
    issuer: env.SIMULATOR_ISSUER ?? `http://127.0.0.1:${port}`,
    port,
    clients: [{
      ...broker,
      client_id: env.SIMULATOR_CLIENT_ID ?? broker.client_id,
      client_secret: env.SIMULATOR_CLIENT_SECRET ?? broker.client_secret,
      redirect_uris: env.SIMULATOR_REDIRECT_URI ? [env.SIMULATOR_REDIRECT_URI] : broker.redirect_uris,
      ...(env.SIMULATOR_POST_LOGOUT_REDIRECT_URI ? { post_logout_redirect_uris: [env.SIMULATOR_POST_LOGOUT_REDIRECT_URI] } : {}),
    }],
  });
  await simulator.start();
  return simulator;
}

async function main(): Promise<void> {
  const simulator = await runSimulator();
  console.log(`国家政务服务平台 统一身份认证（模拟） national-platform simulator: ${simulator.url}`);
  console.log(`  issuer    ${simulator.issuer}`);
  console.log(`  discovery ${simulator.issuer}/.well-known/openid-configuration`);
  console.log(`  accounts  ${demoAccounts.map((a) => a.username).join(', ')} (password ${demoPassword})`);
  const shutdown = () => {
    simulator.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
