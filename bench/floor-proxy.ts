// The floor: a minimal pass-through proxy (node:http + undici, no features), the best any gateway here could do.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = process.argv[2]!;
// Upstream connections: 128 as Sluice's default (providers.<name>.connections), or as many as the bench asks for.
const pool = new Pool(upstream, { connections: Number(process.argv[3] ?? 128), keepAliveTimeout: 30_000 });

const server = createServer(async (req, res) => {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const response = await pool.request({
      path: req.url ?? '/',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat(chunks),
    });
    res.writeHead(response.statusCode, { 'content-type': String(response.headers['content-type'] ?? 'application/json') });
    for await (const chunk of response.body) res.write(chunk);
    res.end();
  } catch {
    res.writeHead(502);
    res.end();
  }
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
