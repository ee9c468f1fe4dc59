/**
 * The broker's HTTP listener: Node's server with the timeouts of `tunables.server`, and a stop that
 * drains (keep-alive connections close once idle, requests still running after the grace period
 * are cut), so an orchestrator's rolling restart loses no answered request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpServerTimeouts {
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export interface HttpListener {
  /** Listens on host:port (port 0 picks a free one); resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** From now on a keep-alive connection closes after its response instead of idling. */
  drain(): void;
  /**
   * Stops accepting and resolves once every connection is closed. With `graceMs`, idle connections
   * are closed as they become idle and the rest are cut after that long; without, it only closes.
   */
  close(graceMs?: number): Promise<void>;
}

/** `handler` is asked for the request handler at each listen, so middleware added until then is in it. */
export function createHttpListener(handler: () => (req: IncomingMessage, res: ServerResponse) => unknown, timeouts: HttpServerTimeouts): HttpListener {
  let server: Server | undefined;
  let draining = false;
  return {
    async listen(host, port) {
      const handle = handler();
      const s = createServer((req, res) => {
        if (draining) res.setHeader('connection', 'close');
        void handle(req, res);
      });
      s.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
      s.headersTimeout = timeouts.headersTimeoutMs;
      s.requestTimeout = timeouts.requestTimeoutMs;
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, host, () => resolve());
      });
      return (s.address() as AddressInfo).port;
    },
    drain() {
      draining = true;
    },
    async close(graceMs) {
      const s = server;
      server = undefined;
      if (!s) return;
      if (graceMs === undefined) {
        await new Promise((resolve) => s.close(resolve));
        return;
      }
      await new Promise<void>((resolve) => {
        // Requests still running after the grace period are cut: the process must end.
        const deadline = setTimeout(() => s.closeAllConnections(), graceMs);
        deadline.unref();
        // Keep-alive connections close as soon as they are idle: now, or once their response is out.
        const idle = setInterval(() => s.closeIdleConnections(), 100);
        s.close(() => {
          clearTimeout(deadline);
          clearInterval(idle);
          resolve();
        });
        s.closeIdleConnections();
      });
    },
  };
}
