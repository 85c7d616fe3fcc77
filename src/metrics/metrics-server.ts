import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError, ExitCode } from '../base/exit-codes.js';
import { parseBindAddress } from '../net/bind-address.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus-text.js';
import type { MetricsRegistry } from './registry.js';

/**
 * Serves GET /metrics in the Prometheus text format (node:http; nothing else is served). The
 * page is rendered per request from the registry, so a scrape costs the command nothing between
 * scrapes. Bounded: at most 16 connections, 10 s per request.
 */
export class MetricsServer {
  private constructor(
    private readonly server: Server,
    /** Where it listens, e.g. http://127.0.0.1:9101/metrics (the real port when 0 was asked). */
    readonly url: string,
  ) {}

  static async start(address: string, registry: MetricsRegistry): Promise<MetricsServer> {
    const bind = parseBindAddress(address);
    if (typeof bind === 'string' || bind.kind !== 'tcp') {
      throw new CliError(`--metrics ${JSON.stringify(address)}: expected HOST:PORT, e.g. 127.0.0.1:9101 (port 0: any free port)`, ExitCode.USAGE);
    }
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path !== '/metrics' && path !== '/') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      const body = renderPrometheus(registry.collect(), registry.command);
      response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
      response.end(request.method === 'HEAD' ? undefined : body);
    });
    server.maxConnections = 16;
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new CliError(`--metrics ${address}: cannot listen: ${error.code === 'EADDRINUSE' ? 'address in use' : error.message}`, ExitCode.UNAVAILABLE)),
      );
      server.listen(bind.port, bind.host, () => resolve());
    });
    // the metrics endpoint must never keep a finished command alive
    server.unref();
    const { address: host, port } = server.address() as AddressInfo;
    const shown = host.includes(':') ? `[${host}]` : host;
    return new MetricsServer(server, `http://${shown}:${port}/metrics`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
