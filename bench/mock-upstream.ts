// Bench upstream: an OpenAI-compatible server answering at once, plain or streamed, in its own process. Every answer
// reports usage (24 prompt, 11 completion tokens; streams in a last chunk when stream_options.include_usage is set).
import { createServer } from 'node:http';

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.', refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 24, completion_tokens: 11, total_tokens: 35 },
});
const base = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini",';
const words = 'The quick brown fox jumps over the lazy dog .'.split(' ');
function streamBody(withUsage: boolean): string {
  let out = `data: ${base}"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n`;
  for (const word of words) out += `data: ${base}"choices":[{"index":0,"delta":{"content":"${word} "},"finish_reason":null}]}\n\n`;
  out += `data: ${base}"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n`;
  if (withUsage) out += `data: ${base}"choices":[],"usage":{"prompt_tokens":24,"completion_tokens":11,"total_tokens":35}}\n\n`;
  return `${out}data: [DONE]\n\n`;
}
const streamWithUsage = streamBody(true);
const streamWithout = streamBody(false);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Split the stream across writes as a real provider does; the usage chunk comes only when asked for, as OpenAI's.
      const text = body.includes('"include_usage":true') ? streamWithUsage : streamWithout;
      const half = text.length >> 1;
      res.write(text.slice(0, half));
      setImmediate(() => res.end(text.slice(half)));
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(completion) });
      res.end(completion);
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
