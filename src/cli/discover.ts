// `sluice discover [--config FILE]`: runs the discovery gateway (src/discovery/); `sluice ca init`: writes its CA.
import { parseArgs } from 'node:util';
import { loadConfigFile, validateConfig } from '../config/load.js';
import type { SluiceConfig } from '../config/schema.js';
import { createProcessLogger, logFormat } from '../observability/logger.js';

export const DISCOVER_HELP = `Usage: sluice discover [--config FILE] [--port PORT] [--host HOST]

Runs the discovery gateway: an HTTP forward proxy (point HTTPS_PROXY at it) that passes every call through unchanged,
intercepts TLS only for the AI provider hosts of its catalog (with the CA from "sluice ca init"), and reports who called
which provider and model, with tokens and cost, to the director's reconciliation intake (discovery.director). It also
takes OTLP/HTTP traces at POST /v1/traces, and serves /metrics and /healthz. Settings: the discovery section of
sluice.yaml (docs/discovery.md).
`;

export const CA_HELP = `Usage: sluice ca init [--config FILE] [--cert FILE] [--key FILE] [--force]

Writes the discovery gateway's organisation CA: a certificate (give it to every client to trust) and its private key
(mode 0600, never leaves this host). Default paths: discovery.ca.certFile and keyFile (./data/discovery-ca.pem and
./data/discovery-ca-key.pem). An existing CA is kept unless --force.
`;

async function configFrom(path: string | undefined): Promise<SluiceConfig> {
  return path === undefined ? validateConfig({}, 'defaults') : loadConfigFile(path);
}

export async function runDiscover(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(DISCOVER_HELP);
    return 0;
  }
  const config = await configFrom(values.config ?? process.env.SLUICE_CONFIG);
  if (values.port !== undefined) config.discovery.port = Number(values.port);
  if (values.host !== undefined) config.discovery.host = values.host;
  const log = createProcessLogger(config.log.level, logFormat(config.log.format, process.env, process.stdout.isTTY === true));
  const { startDiscovery } = await import('../discovery/discovery.js');
  let running;
  try {
    running = await startDiscovery(config, log);
  } catch (error) {
    process.stderr.write(`sluice discover: ${(error as Error).message}\n`);
    return 1;
  }
  log.info(
    { proxy: running.url, mode: config.discovery.mode, director: config.discovery.director?.url ?? null },
    'sluice discovery is listening',
  );
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping: sending or spooling what was observed');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: (error as Error).message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return -1;
}

export async function runCa(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      cert: { type: 'string' },
      key: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'init') {
    process.stdout.write(CA_HELP);
    return values.help ? 0 : 2;
  }
  const config = await configFrom(values.config ?? process.env.SLUICE_CONFIG);
  const certFile = values.cert ?? config.discovery.ca.certFile;
  const keyFile = values.key ?? config.discovery.ca.keyFile;
  const { writeCertificateAuthority } = await import('../discovery/ca.js');
  try {
    const ca = await writeCertificateAuthority(certFile, keyFile, { force: values.force === true });
    process.stdout.write(
      `wrote the discovery CA: certificate ${certFile} (distribute it to clients), key ${keyFile} (mode 0600)\n` +
        `subject: ${ca.cert.subject}; valid until ${ca.cert.notAfter.toISOString()}\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`sluice ca init: ${(error as Error).message}\n`);
    return 1;
  }
}
