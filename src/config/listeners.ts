// Where the gateway and the admin API listen: command-line flags over SLUICE_* variables over sluice.yaml over the
// defaults (gateway 127.0.0.1:4000, admin API 127.0.0.1:4001). Applied at start and to every reloaded sluice.yaml.
import { ConfigError } from './load.js';
import type { SluiceConfig } from './schema.js';

/** `sluice start --port 8080 --host 0.0.0.0 ...`, as given (strings), before checking. */
export interface ListenerFlags {
  port?: string | undefined;
  host?: string | undefined;
  adminPort?: string | undefined;
  adminHost?: string | undefined;
}

type Listener = 'gateway' | 'admin';

const SETTINGS: ReadonlyArray<{ listener: Listener; field: 'port' | 'host'; flag: keyof ListenerFlags; option: string; variable: string }> =
  [
    { listener: 'gateway', field: 'port', flag: 'port', option: '--port', variable: 'SLUICE_PORT' },
    { listener: 'gateway', field: 'host', flag: 'host', option: '--host', variable: 'SLUICE_HOST' },
    { listener: 'admin', field: 'port', flag: 'adminPort', option: '--admin-port', variable: 'SLUICE_ADMIN_PORT' },
    { listener: 'admin', field: 'host', flag: 'adminHost', option: '--admin-host', variable: 'SLUICE_ADMIN_HOST' },
  ];

/** The variables read here, for `sluice start --help`. */
export const LISTENER_VARIABLES = SETTINGS.map((setting) => setting.variable);

/** `config` with its listeners overridden; an override that is not a port or a host is a ConfigError naming its source. */
export function withListenerOverrides(config: SluiceConfig, flags: ListenerFlags, env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  const gateway = { ...config.gateway };
  const admin = { ...config.admin };
  for (const setting of SETTINGS) {
    const fromFlag = flags[setting.flag];
    const fromEnv = env[setting.variable];
    const [value, source] =
      fromFlag !== undefined
        ? [fromFlag, setting.option]
        : fromEnv !== undefined && fromEnv !== ''
          ? [fromEnv, setting.variable]
          : [undefined, ''];
    if (value === undefined) continue;
    const target = setting.listener === 'gateway' ? gateway : admin;
    if (setting.field === 'port') target.port = parsePort(value, source);
    else target.host = parseHost(value, source);
  }
  return { ...config, gateway, admin };
}

function parsePort(value: string, source: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new ConfigError(`${source}: a port from 0 to 65535 (0: any free port), got "${value}"`);
  return port;
}

function parseHost(value: string, source: string): string {
  if (value.trim() === '' || /\s/.test(value)) throw new ConfigError(`${source}: a host name or address to listen on, got "${value}"`);
  return value;
}
