// The management console on the admin listener: the static files `npm run build` compiles from web/ into dist/web,
// served at /console/ with a strict Content-Security-Policy. Hashed assets are cached for a year; index.html is
// revalidated, so a new build is picked up at the next load. The console's only backend is the director API.
import { readFile, readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONSOLE_PATH = '/console/';

/** Scripts and styles from the admin origin only, no inline script or style, calls to the admin origin only, no framing. */
const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

interface ConsoleFile {
  body: Buffer;
  type: string;
  immutable: boolean;
}

/** dist/web beside dist/src, where `npm run build` writes the console. */
function defaultConsoleDir(): string {
  return fileURLToPath(new URL('../../web', import.meta.url));
}

export class ConsoleFiles {
  private readonly dir: string;
  private files: Promise<Map<string, ConsoleFile> | null> | null = null;

  constructor(dir: string = defaultConsoleDir()) {
    this.dir = dir;
  }

  /** Read once, at the first request: the build's files are few and small. */
  private load(): Promise<Map<string, ConsoleFile> | null> {
    this.files ??= (async () => {
      try {
        const files = new Map<string, ConsoleFile>();
        files.set('index.html', { body: await readFile(join(this.dir, 'index.html')), type: TYPES['.html']!, immutable: false });
        for (const name of await readdir(join(this.dir, 'assets'))) {
          const type = TYPES[extname(name)];
          if (type !== undefined)
            files.set(`assets/${name}`, { body: await readFile(join(this.dir, 'assets', name)), type, immutable: true });
        }
        return files;
      } catch {
        return null;
      }
    })();
    return this.files;
  }

  /** Answers GET and HEAD of /console and below; false for any other path, left to the caller. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if ((path === '/' || path === '/console') && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(302, { location: CONSOLE_PATH, 'cache-control': 'no-cache' });
      res.end();
      return true;
    }
    if (!path.startsWith(CONSOLE_PATH)) return false;
    void this.answer(req, res, path.slice(CONSOLE_PATH.length));
    return true;
  }

  private async answer(req: IncomingMessage, res: ServerResponse, relative: string): Promise<void> {
    const common = {
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...common, allow: 'GET, HEAD', 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 'method_not_allowed', message: `${req.method} is not allowed on the console; allowed: GET, HEAD.` },
        }),
      );
      return;
    }
    const files = await this.load();
    if (files === null) {
      res.writeHead(404, { ...common, 'content-type': 'text/plain; charset=utf-8' });
      res.end('The console is not built: run "npm run build" (or "npm start", which builds it when it is missing).\n');
      return;
    }
    const file = files.get(relative === '' ? 'index.html' : relative);
    if (file === undefined) {
      res.writeHead(404, { ...common, 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'route_not_found', message: `No console file ${relative}.` } }));
      return;
    }
    res.writeHead(200, {
      ...common,
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  }
}
