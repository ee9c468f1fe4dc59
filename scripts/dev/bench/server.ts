/**
 * One server of the benchmark in its own process: `server.ts broker|bare|relay|national`.
 * The broker takes its configuration as `npm run broker` does (TONGBAN_CONFIG); the others a JSON
 * spec in BENCH_SPEC. Prints `listening on <url>`, then answers IPC messages from the benchmark:
 * `usage` (process.cpuUsage and memoryUsage, after a forced GC when --expose-gc is on) and `stop`.
 */
import { createBroker } from '../../../broker/broker.ts';
import { loadConfig } from '../../../config/load.ts';
import { createNationalSimulator, type SimulatorClient } from '../simulator/index.ts';
import type { UsageMessage } from './protocol.ts';
import { startBareProvider, startRelay, type YardstickOptions } from './yardsticks.ts';

async function start(kind: string): Promise<{ url: string; stop(): Promise<void> }> {
  const spec = JSON.parse(process.env.BENCH_SPEC ?? '{}') as Record<string, unknown>;
  switch (kind) {
    case 'broker': {
      const broker = await createBroker(loadConfig());
      return { url: await broker.start(), stop: () => broker.stop() };
    }
    case 'bare':
      return startBareProvider(spec as unknown as YardstickOptions);
    case 'relay':
      return startRelay(spec as unknown as YardstickOptions);
    case 'national': {
      const simulator = createNationalSimulator({
        issuer: `http://127.0.0.1:${Number(spec.port)}`,
        port: Number(spec.port),
        clients: spec.clients as SimulatorClient[],
      });
      await simulator.start();
      return { url: simulator.url, stop: () => simulator.stop() };
    }
    default:
      throw new Error(`unknown server kind ${kind}`);
  }
}

async function main(): Promise<void> {
  const server = await start(process.argv[2] ?? '');
  process.stdout.write(`listening on ${server.url}\n`);
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'usage') {
      if (gc) {
        gc();
        gc();
      }
      const usage: UsageMessage = { type: 'usage', cpu: process.cpuUsage(), memory: process.memoryUsage(), gc: Boolean(gc) };
      process.send?.(usage);
    } else if (message.type === 'stop') {
      server.stop().finally(() => process.exit(0));
    }
  });
  const stop = () => {
    server.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
