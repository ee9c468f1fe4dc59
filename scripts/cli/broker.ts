/**
 * Starts one broker node from configuration (config file via TONGBAN_CONFIG, TONGBAN_* variables),
 * and names it on stderr (scripts/cli/configuration.ts, the rule the operator CLIs share).
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, then exit.
 */
import { createBroker } from '../../broker/broker.ts';
import { developmentBanner } from './banner.ts';
import { configurationFor } from './configuration.ts';

async function main(): Promise<void> {
  const config = configurationFor('broker', 'broker');
  if (!config) process.exit(2);
  const banner = developmentBanner(config);
  if (banner) process.stderr.write(banner);
  const broker = await createBroker(config);
  const url = await broker.start();
  process.stdout.write(`tongban broker listening on ${url} (issuer ${config.issuer})\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    broker.logger.info('shutdown', { signal });
    broker.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`tongban broker failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
