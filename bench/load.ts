// A closed-loop load generator: N connections each sending the next request when the last answer is fully read.
// Written here rather than using autocannon because autocannon reports latency in whole milliseconds, too coarse
// for a gateway whose overhead is tens of microseconds.
import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  rps: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  errors: number;
  /** The first failure, for the report: `<status> <body...>` or the exception's message; null when none failed. */
  firstError: string | null;
  /**
   * At most this many more calls were sent than `requests` counts: those in flight when the run stopped, which the
   * target answers and meters after (wrk stops without reading them). 0 here: every call sent is waited for.
   */
  uncounted: number;
}

/** What one run of load sends: POSTs of `body` to `origin` + `path` over `connections`, for `seconds`. */
export interface LoadSpec {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  seconds: number;
}

export async function load({ origin, path, headers, body, connections, seconds }: LoadSpec): Promise<LoadResult> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      try {
        const response = await pool.request({ path, method: 'POST', headers, body });
        if (response.statusCode === 200) {
          for await (const _chunk of response.body) {
            /* read to the end */
          }
        } else {
          errors++;
          const text = await response.body.text();
          firstError ??= `${response.statusCode} ${text.replace(/\s+/g, ' ').slice(0, 400)}`;
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors, firstError, uncounted: 0 };
}
