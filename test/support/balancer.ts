/**
 * A small HTTP load balancer for multi-node tests: fronts several broker nodes at one issuer URL
 * and sends each request (not each connection) to the node `route` picks, round robin by default.
 * No stickiness of any kind, so a login really does cross nodes.
 */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Served {
  readonly method: string;
  readonly path: string;
  /** Index of the node that served it. */
  readonly node: number;
  readonly status: number;
}

export interface Balancer {
  readonly url: string;
  readonly port: number;
  /** The nodes, `http://host:port` each; may be set after start (the issuer must be known first). */
  nodes: string[];
  /** Picks the node of a request; `n` counts requests from 0. */
  route: (request: IncomingMessage, n: number) => number;
  /** Every request answered, in order. */
  readonly served: Served[];
  close(): Promise<void>;
}

export async function startBalancer(options: { port?: number; nodes?: string[] } = {}): Promise<Balancer> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let count = 0;
  const balancer: Balancer = {
    url: '',
    port: 0,
    nodes: options.nodes ?? [],
    route: (_request, n) => n % Math.max(1, balancer.nodes.length),
    served: [],
    close: async () => undefined,
  };
  const server = http.createServer((request, response) => {
    const node = balancer.route(request, count++);
    const target = new URL(balancer.nodes[node] ?? 'http://127.0.0.1:9');
    const upstream = http.request({
      host: target.hostname,
      port: target.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
      agent,
    }, (answer) => {
      balancer.served.push({ method: request.method ?? 'GET', path: (request.url ?? '/').split('?')[0]!, node, status: answer.statusCode ?? 0 });
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => {
      balancer.served.push({ method: request.method ?? 'GET', path: (request.url ?? '/').split('?')[0]!, node, status: 502 });
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('bad gateway');
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  Object.assign(balancer, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      agent.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  });
  return balancer;
}
