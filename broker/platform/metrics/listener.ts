/**
 * The metrics listener: its own HTTP server (default 127.0.0.1:9464, path /metrics), never the
 * public port, so that the broker's public face shows nothing of its inner counts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';
import type { Metrics } from './registry.ts';

export interface MetricsListenerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly path: string;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export interface MetricsListener {
  /** Resolves with the scrape URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createMetricsListener(options: MetricsListenerOptions): MetricsListener {
  let server: Server | undefined;
  return {
    async start() {
      const s = createServer((req, res) => {
        const path = new URL(req.url ?? '/', 'http://metrics').pathname;
        if (path !== options.path || (req.method !== 'GET' && req.method !== 'HEAD')) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
          return;
        }
        options.metrics.scrape().then(({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : body);
        }, (error: unknown) => {
          options.logger.warn('metrics_scrape_failed', { reason: (error as Error)?.name });
          res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(options.port, options.host, () => resolve());
      });
      server = s;
      const { port } = s.address() as AddressInfo;
      options.logger.info('metrics_listening', { host: options.host, port, path: options.path });
      return `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}${options.path}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}
