/**
 * The benchmark's load balancer for the multi-node phase: one issuer URL in front of broker nodes,
 * each request (not each connection) to the next node round robin, no stickiness of any kind, so a
 * login crosses nodes. The same balancer fronts the one-node comparison, so both pay its hop.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchBalancer {
  readonly url: string;
  readonly port: number;
  /** The nodes in rotation (`http://host:port` each); may change between phases. */
  nodes: string[];
  close(): Promise<void>;
}

export async function startBenchBalancer(port = 0): Promise<BenchBalancer> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  let count = 0;
  const server = http.createServer((request, response) => {
    const node = balancer.nodes[count++ % Math.max(1, balancer.nodes.length)] ?? 'http://127.0.0.1:9';
    const target = new URL(node);
    const upstream = http.request({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers, agent }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end('bad gateway');
    });
    request.pipe(upstream);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const balancer: BenchBalancer = {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    nodes: [],
    close: () => new Promise<void>((resolve) => {
      agent.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  return balancer;
}
