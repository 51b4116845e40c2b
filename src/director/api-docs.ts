// Interactive docs for the director API at /api/docs: Swagger UI over /api/openapi.json, served offline from the
// swagger-ui-dist package (no CDN, no telemetry).
//
// Access: the page, its scripts and styles hold no data, and a browser cannot send a bearer token when it loads a
// page, so they are public, as /api/openapi.json already is. Every call the page makes ("Try it out") goes to the API
// and needs an admin token, which the user enters under "Authorize" (the document's `adminToken` bearer scheme);
// Swagger UI then sends it as `Authorization: Bearer` and keeps it in the page's memory only (persistAuthorization is
// off: a reload forgets it). A strict Content-Security-Policy allows scripts from this origin only (no inline script:
// the initializer is a file of its own) and calls to this origin only; Swagger UI's styles need 'unsafe-inline'.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, Env, Hono } from 'hono';
import { ApiError } from './errors.js';

export const API_DOCS_PATH = '/api/docs';

/** The files of swagger-ui-dist the page uses; nothing else in the package is served. */
const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png'] as const;

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  // Swagger UI's icons are SVG data: URLs in its stylesheet.
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

// URLs are relative to /api/docs, so the page also works behind a proxy that mounts the admin port under a prefix.
const INDEX_HTML = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Sluice director API</title>
    <link rel="stylesheet" href="docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="docs/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="docs/swagger-ui-bundle.js"></script>
    <script src="docs/sluice-api-docs.js"></script>
  </body>
</html>
`;

// validatorUrl null: no call to validator.swagger.io. BaseLayout: no top bar that loads other documents.
const INITIALIZER = `// Starts Swagger UI over this director's OpenAPI document. The admin token entered under "Authorize" stays in memory.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: 'openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    validatorUrl: null,
    persistAuthorization: false,
  });
});
`;

/**
 * Registers /api/docs and its assets. Call it before the API's token check: these answers are the same for everyone
 * and carry no data (see the top of this file).
 */
export function registerApiDocs<E extends Env>(app: Hono<E>): void {
  const withHeaders = (c: Context<E>, cacheControl: string) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
    c.header('cache-control', cacheControl);
  };

  app.get(API_DOCS_PATH, (c) => {
    withHeaders(c, 'no-cache');
    return c.html(INDEX_HTML);
  });
  // The page's relative URLs need it without the trailing slash.
  app.get(`${API_DOCS_PATH}/`, (c) => c.redirect(API_DOCS_PATH, 301));
  app.get(`${API_DOCS_PATH}/sluice-api-docs.js`, (c) => {
    withHeaders(c, 'no-cache');
    return c.body(INITIALIZER, 200, { 'content-type': 'text/javascript; charset=utf-8' });
  });
  for (const asset of ASSETS) {
    // The package's files change only with its version: an hour's caching saves reloading 1.7 MB of script.
    app.get(
      `${API_DOCS_PATH}/${asset}`,
      async (c, next) => {
        withHeaders(c, 'public, max-age=3600');
        await next();
      },
      serveStatic({ path: join(SWAGGER_UI_DIR, asset) }),
    );
  }
  app.get(`${API_DOCS_PATH}/*`, (c) => {
    withHeaders(c, 'no-cache');
    return c.body(new ApiError(404, 'route_not_found', `No file ${c.req.path} in the API docs.`).body(), 404, {
      'content-type': 'application/json',
    });
  });
}
