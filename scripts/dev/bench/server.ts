/**
 * One server of the benchmark in its own process: `server.ts broker|cluster|bare|relay|national`
 * (`cluster`: one broker node of the multi-node phase).
 * The broker takes its configuration as `npm run broker` does (TONGBAN_CONFIG); the others a JSON
 * spec in BENCH_SPEC. Prints `listening on <url>`, then answers IPC messages from the benchmark:
 * `usage` (process.cpuUsage and memoryUsage, after a forced GC when --expose-gc is on, and the
 * HTTP requests served so far by path shape, with the time spent on them: the hops of a login) and
 * `stop`.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { createBroker } from '../../../broker/broker.ts';
import { loadConfig } from '../../../config/load.ts';
import { createNationalSimulator, type SimulatorClient } from '../simulator/index.ts';
import type { UsageMessage } from './protocol.ts';
import { startBareProvider, startRelay, type YardstickOptions } from './yardsticks.ts';

/** `GET /interaction/*` for `GET /interaction/Xy9…?a=b`: one shape per route, not per login. */
function requestShape(method: string | undefined, url: string | undefined): string {
  const path = (url ?? '/').split('?')[0]!.replace(/[A-Za-z0-9_-]{16,}/g, '*');
  return `${method ?? 'GET'} ${path}`;
}

const served: Record<string, number> = {};
/** Milliseconds from each request's start to the end of its response, summed by shape. */
const servedMs: Record<string, number> = {};

function countRequests(): void {
  const started = new WeakMap<IncomingMessage, readonly [shape: string, at: number]>();
  subscribe('http.server.request.start', (message) => {
    const { request } = message as { request: IncomingMessage };
    const shape = requestShape(request.method, request.url);
    served[shape] = (served[shape] ?? 0) + 1;
    started.set(request, [shape, performance.now()]);
  });
  subscribe('http.server.response.finish', (message) => {
    const { request } = message as { request: IncomingMessage };
    const begun = started.get(request);
    if (begun) servedMs[begun[0]] = (servedMs[begun[0]] ?? 0) + performance.now() - begun[1];
  });
}

async function start(kind: string): Promise<{ url: string; stop(): Promise<void> }> {
  const spec = JSON.parse(process.env.BENCH_SPEC ?? '{}') as Record<string, unknown>;
  switch (kind) {
    case 'broker':
    case 'cluster': {
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
  countRequests();
  const server = await start(process.argv[2] ?? '');
  process.stdout.write(`listening on ${server.url}\n`);
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'usage') {
      if (gc) {
        gc();
        gc();
      }
      const usage: UsageMessage = { type: 'usage', cpu: process.cpuUsage(), memory: process.memoryUsage(), gc: Boolean(gc), requests: { ...served }, requestMs: { ...servedMs } };
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
