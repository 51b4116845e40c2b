// The connector of every upstream pool: before a socket opens, the address it would reach is checked against the
// provider-target policy (src/config/provider-targets.ts). A base URL's name is checked when it is written, but names
// resolve at connect time (and may resolve elsewhere later: DNS rebinding), so the resolved addresses are checked here.
// Runs once per new connection, never per request.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { buildConnector as Connector } from 'undici';
import { buildConnector } from '../../wire/undici.js';
import type { ProviderTargets } from '../../config/provider-targets.js';

export class ProviderTargetRefused extends Error {
  override name = 'ProviderTargetRefused';
  readonly code = 'SLUICE_PROVIDER_TARGET_REFUSED';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The connector for one upstream pool (one origin, so one port); `timeout` is undici's default connect timeout. Built
 * once per pool, so TLS sessions are reused as with undici's own connector.
 */
export function guardedConnector(targets: ProviderTargets, origin: string, timeout = 10_000): Connector.connector {
  const url = new URL(origin);
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const lookup = (name: string, options: LookupOptions, done: LookupCallback) => {
    dnsLookup(name, { ...options, all: true }, (error, addresses) => {
      const none = options.all === true ? [] : '';
      if (error !== null) {
        done(error, none);
        return;
      }
      for (const { address } of addresses) {
        const refusal = targets.refusal(name, address, port);
        if (refusal !== null) {
          done(new ProviderTargetRefused(`provider target refused: ${refusal}`), none);
          return;
        }
      }
      if (options.all === true) done(null, addresses);
      else done(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  const connect = buildConnector({ timeout, lookup } as Connector.BuildOptions);
  return (options, callback) => {
    const hostname = options.hostname.startsWith('[') ? options.hostname.slice(1, -1) : options.hostname;
    // A literal address is never looked up, so it is checked here; a name is checked on what it resolves to.
    const refusal = isIP(hostname) !== 0 ? targets.refusal(hostname, hostname, port) : null;
    if (refusal !== null) {
      callback(new ProviderTargetRefused(`provider target refused: ${refusal}`), null);
      return;
    }
    connect(options, callback);
  };
}
