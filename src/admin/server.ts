// The admin listener: /healthz and /metrics now; the director's API joins it later.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface AdminOptions {
  registry: Registry;
  health: () => { ok: boolean; detail: Record<string, unknown> };
}

export function createAdminServer(options: AdminOptions): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const health = options.health();
      res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: health.ok ? 'ok' : 'unavailable', ...health.detail }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('metrics unavailable\n');
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `No endpoint ${req.method} ${path}`, type: 'invalid_request_error', code: 'unknown_url' } }));
  });
}
