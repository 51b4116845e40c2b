// The admin listener: /healthz, /readyz, /metrics, and the director's REST API under /api/.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { getRequestListener } from '@hono/node-server';
import type { Registry } from 'prom-client';
import type { DirectorApi } from '../director/api.js';
import { ApiError } from '../director/errors.js';
import type { ListenerTls } from '../identity/tls.js';
import { answerHealth, type ReadinessProbe } from '../observability/readiness.js';
import { ConsoleFiles } from './console.js';

export interface AdminOptions {
  registry: Registry;
  health: () => { ok: boolean; detail: Record<string, unknown> };
  /** /readyz, the same report as on the gateway listener. */
  readiness: ReadinessProbe;
  /** The director API, when this process runs the director. */
  api?: DirectorApi;
  /** /metrics from elsewhere than `registry`: a worker's answers every worker's, summed by the primary. */
  metrics?: () => Promise<string>;
  /** The console's built files (dist/web by default); served only with the director API, its backend. */
  consoleDir?: string;
  /** HTTPS with these certificate files; plain HTTP when absent. */
  tls?: ListenerTls;
}

export function createAdminServer(options: AdminOptions): Server | HttpsServer {
  const api = options.api === undefined ? null : getRequestListener(options.api.fetch);
  const consoleFiles = options.api === undefined ? null : new ConsoleFiles(options.consoleDir);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (api !== null && (path === '/api' || path.startsWith('/api/'))) {
      void api(req, res);
      return;
    }
    if (consoleFiles !== null && consoleFiles.handle(req, res, path)) return;
    if (path === '/healthz' || path === '/readyz' || path === '/metrics') {
      // Probes and scrapers may send HEAD, as on the gateway listener; any other method is this listener's 405.
      if (req.method !== 'GET' && req.method !== 'HEAD') refuseMethod(res, req.method ?? '', path);
      else if (path === '/readyz') answerHealth(req, res, path, options.readiness);
      else if (path === '/healthz') {
        const health = options.health();
        const body = JSON.stringify({ status: health.ok ? 'ok' : 'unavailable', ...health.detail });
        res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else if (req.method === 'HEAD') {
        // The headers a scrape gets, without gathering every worker's figures for a body nobody reads.
        res.writeHead(200, { 'content-type': options.registry.contentType });
        res.end();
      } else {
        (options.metrics ?? (() => options.registry.metrics()))().then(
          (text) => {
            res.writeHead(200, { 'content-type': options.registry.contentType });
            res.end(text);
          },
          () => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end('metrics unavailable\n');
          },
        );
      }
      return;
    }
    // The director API's error shape, for every path of the admin listener.
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(new ApiError(404, 'route_not_found', `No endpoint ${req.method} ${path}.`).body());
  };
  return options.tls === undefined ? createServer(listener) : options.tls.createServer({}, listener, true);
}

/** A 405 in the director API's shape, naming the methods the endpoint takes (RFC 9110, 15.5.6). */
function refuseMethod(res: ServerResponse, method: string, path: string): void {
  const refused = new ApiError(405, 'method_not_allowed', `${method} is not allowed on ${path}; use GET or HEAD.`, undefined, {
    allow: 'GET, HEAD',
  });
  res.writeHead(refused.status, { 'content-type': 'application/json', ...refused.headers });
  res.end(refused.body());
}
