// The MCP servers of one config version, compiled for the request path: each server's upstream pool and credentials,
// its resource status, and per consumer the servers and tools it may call (look-ups in prebuilt maps).
import { Agent, preloadRequest } from '../../wire/undici.js';
import type { McpConfig } from '../../config/mcp-schema.js';
import type { SluiceConfig } from '../../config/schema.js';
import { guardedConnector } from '../routing/guarded-connector.js';
import type { Consumer } from '../../policy/consumers.js';
import type { ProviderTargets } from '../../config/provider-targets.js';
import { resourcePolicy, type ResourcePolicyEntry } from '../../policy/resources.js';

/** The provider part of an MCP server's resource id (`mcp/<server>`) and of its ledger rows' provider (`mcp:<server>`). */
export const MCP_RESOURCE_PREFIX = 'mcp';

export interface McpServer {
  name: string;
  url: string;
  /** Credentials and other headers sent upstream; lower-case names. */
  headers: Readonly<Record<string, string>>;
  resource: ResourcePolicyEntry;
  timeoutMs: number;
  dispatcher: Agent;
}

/** The tools of one server a consumer may call: every one, or those named. */
export type ToolGrant = '*' | ReadonlySet<string>;

export class McpDirectory {
  readonly servers: ReadonlyMap<string, McpServer>;
  readonly maxBodyBytes: number;
  /** The Origin header values a request may carry (none: only clients that send no Origin, programs rather than pages). */
  readonly allowedOrigins: ReadonlySet<string>;
  private readonly grants: McpConfig['access'];
  /** consumer name -> server -> tools; filled on first use per consumer (consumers come and go with the director store). */
  private readonly byConsumer: Map<string, ReadonlyMap<string, ToolGrant>>;
  /** Requests in flight that read this directory (enter/leave). */
  private users: number;
  /** Set by closeUnused() while requests still use this directory: called when the last one leaves. */
  private whenUnused: (() => void) | null;

  constructor(config: Pick<SluiceConfig, 'mcp' | 'resources' | 'resourcePolicy'>, targets?: ProviderTargets, previous?: McpDirectory) {
    const servers = new Map<string, McpServer>();
    // The handler relays with undici's request.
    if (Object.keys(config.mcp.servers).length > 0) preloadRequest();
    for (const [name, server] of Object.entries(config.mcp.servers)) {
      const origin = new URL(server.url).origin;
      const kept = previous?.servers.get(name);
      // An unchanged origin keeps its pool across reloads: open connections are not dropped by a config change.
      const dispatcher =
        kept !== undefined && new URL(kept.url).origin === origin
          ? kept.dispatcher
          : new Agent(targets === undefined ? {} : { connect: guardedConnector(targets, origin) });
      const headers: Record<string, string> = {};
      for (const [header, value] of Object.entries(server.headers ?? {})) headers[header.toLowerCase()] = value;
      const resources = { ...config.resources, [`${MCP_RESOURCE_PREFIX}/${name}`]: server.status };
      servers.set(name, {
        name,
        url: server.url,
        headers,
        timeoutMs: server.timeoutMs,
        dispatcher,
        resource: resourcePolicy({ resources, resourcePolicy: config.resourcePolicy }, MCP_RESOURCE_PREFIX, name),
      });
    }
    this.servers = servers;
    this.maxBodyBytes = config.mcp.maxBodyBytes;
    this.allowedOrigins = new Set(config.mcp.allowedOrigins);
    this.grants = config.mcp.access;
    this.byConsumer = new Map();
    this.users = 0;
    this.whenUnused = null;
  }

  /** A request that read this directory begins: until it ends, a reload leaves its pools open. */
  enter(): void {
    this.users++;
  }

  /** That request has ended. */
  leave(): void {
    if (--this.users === 0 && this.whenUnused !== null) {
      const close = this.whenUnused;
      this.whenUnused = null;
      close();
    }
  }

  /** The servers this consumer may reach, each with the tools it may call. */
  access(consumer: Consumer): ReadonlyMap<string, ToolGrant> {
    let access = this.byConsumer.get(consumer.name);
    if (access === undefined) {
      access = compile(this.grants, consumer);
      if (this.byConsumer.size >= 10_000) this.byConsumer.clear();
      this.byConsumer.set(consumer.name, access);
    }
    return access;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => server.dispatcher.close()));
  }

  /**
   * Closes pools the next directory did not keep, once no request that read this directory is left: one still receiving
   * its body forwards later, and a closed pool refuses it.
   */
  async closeUnused(next: McpDirectory): Promise<void> {
    if (this.users > 0) await new Promise<void>((resolve) => (this.whenUnused = resolve));
    const kept = new Set([...next.servers.values()].map((server) => server.dispatcher));
    await Promise.all(
      [...this.servers.values()].filter((server) => !kept.has(server.dispatcher)).map((server) => server.dispatcher.close()),
    );
  }
}

export function mayCall(grant: ToolGrant, tool: string): boolean {
  return grant === '*' || grant.has(tool);
}

function compile(grants: McpConfig['access'], consumer: Consumer): ReadonlyMap<string, ToolGrant> {
  const access = new Map<string, ToolGrant>();
  for (const entry of grants) {
    const matches =
      entry.consumer !== undefined ? entry.consumer === consumer.name : consumer.team !== null && entry.team === consumer.team;
    if (!matches) continue;
    const held = access.get(entry.server);
    if (held === '*' || entry.tools === '*') access.set(entry.server, '*');
    else access.set(entry.server, new Set([...(held ?? []), ...entry.tools]));
  }
  return access;
}
