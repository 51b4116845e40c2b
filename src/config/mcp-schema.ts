// sluice.yaml's `mcp` section: the MCP servers the gateway fronts on /mcp/<server>, and who may call which of their tools.
import { z } from 'zod';
import { headersRecord, httpUrl, nameText, TEXT_LIMITS } from './limits.js';

const serverName = z
  .string()
  .max(TEXT_LIMITS.name)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a lowercase name: a-z, 0-9, _ or -');

const server = z
  .object({
    /** The server's Streamable HTTP endpoint (e.g. https://mcp.example.com/mcp). */
    url: httpUrl(),
    /** Sent on every upstream request: the credentials the server wants (Authorization, an API key header). Never shown to consumers. */
    headers: headersRecord().optional(),
    /** Its review status as a resource (`mcp/<server>`); what each status gets is resourcePolicy's, as for models. */
    status: z.enum(['sanctioned', 'unsanctioned', 'unreviewed']).default('unreviewed'),
    /** The longest wait for the server's answer (a streamed answer's head). */
    timeoutMs: z.number().int().positive().default(60_000),
  })
  .strict();

/** A web origin as browsers send it in the Origin header: scheme, host and port only. */
const origin = z
  .string()
  .max(TEXT_LIMITS.url)
  .refine((value) => URL.canParse(value) && new URL(value).origin === value, 'an origin: scheme://host[:port], no path or trailing /');

/** One grant: a consumer (or every consumer of a team) may call these tools of one server; "*" is every tool. */
const grant = z
  .object({
    consumer: nameText().optional(),
    team: nameText().optional(),
    server: serverName,
    tools: z.union([z.literal('*'), z.array(z.string().min(1).max(TEXT_LIMITS.name)).max(TEXT_LIMITS.allowList)]),
  })
  .strict()
  .refine((entry) => (entry.consumer === undefined) !== (entry.team === undefined), 'name a consumer or a team (one of them)');

export const mcpSchema = z
  .object({
    servers: z.record(serverName, server).default({}),
    /** Who may reach which tools; a consumer without a grant for a server sees no such server. */
    access: z.array(grant).max(10_000).default([]),
    /**
     * The web origins (`https://agents.example.com`) whose pages may call /mcp: a request carrying any other Origin header
     * is refused (MCP's DNS-rebinding rule), so a page cannot make a browser call a tool with credentials it holds.
     */
    allowedOrigins: z.array(origin).max(TEXT_LIMITS.allowList).default([]),
    /** The largest JSON-RPC message a client may send. */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
  })
  .strict()
  .superRefine((mcp, context) => {
    mcp.access.forEach((entry, i) => {
      if (!(entry.server in mcp.servers))
        context.addIssue({ code: 'custom', path: ['access', i, 'server'], message: `no MCP server named "${entry.server}"` });
    });
  });

export const MCP_DEFAULTS = { servers: {}, access: [], allowedOrigins: [], maxBodyBytes: 4 * 1024 * 1024 };

export type McpConfig = z.infer<typeof mcpSchema>;
export type McpServerConfig = z.infer<typeof server>;
