// Enforce mode: the sanctioned-model policy applied to discovered traffic. Statuses come from sluice.yaml's `resources`
// and, when a director is configured, from its resource list (read back periodically); the action per status is the
// configured `resourcePolicy`. A refused call is answered in the provider's own error shape, and never reaches it; so is
// a call whose model cannot be read from its body while the policy refuses some model of its provider (fail closed).
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { Logger } from 'pino';
import type { WireFormat } from '../config/discovery-schema.js';
import type { ResourceStatus } from '../config/governance-schema.js';
import type { SluiceConfig } from '../config/schema.js';
import { resourcePolicy } from '../policy/resources.js';
import type { LiveSessionUnread } from './live-session.js';
import type { UnreadableBody } from './reading.js';

export class DiscoveryPolicy {
  private readonly config: Pick<SluiceConfig, 'resources' | 'resourcePolicy'>;
  private directorStatuses: Record<string, ResourceStatus>;

  constructor(config: Pick<SluiceConfig, 'resources' | 'resourcePolicy'>) {
    this.config = config;
    this.directorStatuses = {};
  }

  /**
   * Whether a call to provider/model is refused; a Bedrock inference profile or ARN takes its foundation model's status
   * unless listed itself, as at the gateway (policy/resources.ts' governingResource).
   */
  refuses(provider: string, model: string): boolean {
    const config = { resources: { ...this.config.resources, ...this.directorStatuses }, resourcePolicy: this.config.resourcePolicy };
    return resourcePolicy(config, provider, model).action === 'enforce';
  }

  /** Whether a call to provider/model is listed as sanctioned (here or by the director), as refuses() reads the lists. */
  sanctions(provider: string, model: string): boolean {
    const config = { resources: { ...this.config.resources, ...this.directorStatuses }, resourcePolicy: this.config.resourcePolicy };
    return resourcePolicy(config, provider, model).status === 'sanctioned';
  }

  /**
   * Whether some model of the provider is refused: then a call to it whose model cannot be read might be to that model.
   * Unreviewed models refused means any model it does not know; otherwise a model marked unsanctioned (here or by the
   * director) while unsanctioned ones are refused.
   */
  refusesSome(provider: string): boolean {
    const { resourcePolicy: actions } = this.config;
    if (actions.unreviewed === 'enforce') return true;
    if (actions.unsanctioned !== 'enforce') return false;
    const prefix = `${provider}/`;
    for (const [id, status] of Object.entries({ ...this.config.resources, ...this.directorStatuses })) {
      if (status === 'unsanctioned' && id.startsWith(prefix)) return true;
    }
    return false;
  }

  /** Reads the director's resource statuses (GET /api/resources); on failure the last ones read stay in force. */
  async refresh(url: string, token: string, log: Logger): Promise<void> {
    try {
      const response = await fetch(new URL('/api/resources', url), {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const body = (await response.json()) as { items: Array<{ id: string; status: ResourceStatus }> };
      this.directorStatuses = Object.fromEntries(body.items.map((item) => [item.id, item.status]));
    } catch (error) {
      log.warn(
        { err: (error as Error).message },
        'discovery: resource statuses cannot be read from the director; the last ones read stay in force',
      );
    }
  }
}

/** An answer enforce mode gives instead of the provider's: status, headers and body in the provider's own error shape. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** What a refusal says, and the names each provider's error shape gives that kind of error. */
interface RefusalKind {
  status: number;
  message: string;
  openaiType: string;
  openaiCode: string;
  openaiParam: string | null;
  anthropicType: string;
  googleStatus: string;
  bedrockType: string;
}

function rendered(wire: WireFormat, kind: RefusalKind): Refusal {
  const { message } = kind;
  let body: unknown;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  switch (wire) {
    case 'anthropic':
      body = { type: 'error', error: { type: kind.anthropicType, message } };
      break;
    case 'gemini':
      body = { error: { code: kind.status, message, status: kind.googleStatus } };
      break;
    case 'bedrock':
      body = { message };
      headers['x-amzn-errortype'] = kind.bedrockType;
      break;
    case 'cohere':
      body = { message };
      break;
    default:
      body = { error: { message, type: kind.openaiType, param: kind.openaiParam, code: kind.openaiCode } };
  }
  const text = JSON.stringify(body);
  headers['content-length'] = String(Buffer.byteLength(text));
  return { status: kind.status, headers, text };
}

/** A 403 in the provider's own error shape: what its SDK turns into a permission error. */
export function refusal(wire: WireFormat, provider: string, model: string): Refusal {
  return rendered(wire, {
    status: 403,
    message: `The model ${provider}/${model} is not sanctioned by your organisation's AI policy (Sluice discovery).`,
    openaiType: 'invalid_request_error',
    openaiCode: 'model_not_sanctioned',
    openaiParam: 'model',
    anthropicType: 'permission_error',
    googleStatus: 'PERMISSION_DENIED',
    bedrockType: 'AccessDeniedException',
  });
}

/**
 * The refusal, in enforce mode, of a Responses API call that names no model while the policy refuses some model of its
 * provider: what runs is its stored prompt's model, kept with the prompt by the provider (or nothing the proxy can read),
 * so it cannot be checked. A stored prompt listed as sanctioned (`openai/prompts/{id}`) is not refused.
 */
export function unnamedModelRefusal(wire: WireFormat, provider: string, storedPrompt: string | null): Refusal {
  const reason =
    storedPrompt === null
      ? 'it names no model'
      : `it names no model, and the model of its stored prompt (${provider}/prompts/${storedPrompt}) is kept with the prompt by the provider, out of its sight; name the model in the call, or have ${provider}/prompts/${storedPrompt} listed as sanctioned`;
  return rendered(wire, {
    status: 403,
    message: `Sluice discovery cannot check this call against your organisation's AI policy, so it was not sent: ${reason}.`,
    openaiType: 'invalid_request_error',
    openaiCode: 'model_not_readable',
    openaiParam: storedPrompt === null ? 'model' : 'prompt',
    anthropicType: 'permission_error',
    googleStatus: 'PERMISSION_DENIED',
    bedrockType: 'AccessDeniedException',
  });
}

/**
 * The refusal of a call whose model cannot be read from its body, in enforce mode: it cannot be checked against the
 * policy, so it is not sent (fail closed). 413 for a body over the bound (as sent or decompressed), 415 for a content
 * coding the proxy cannot undo, 400 for a body that is not in the coding it claims.
 */
export function unreadableRefusal(wire: WireFormat, reason: UnreadableBody, encoding: string, maxBytes: number): Refusal {
  const prefix =
    "Sluice discovery cannot check this call against your organisation's AI policy, so it was not sent: its model cannot be read, because";
  const invalid = {
    openaiType: 'invalid_request_error',
    openaiParam: null,
    googleStatus: 'INVALID_ARGUMENT',
    bedrockType: 'ValidationException',
  };
  switch (reason) {
    case 'too_large':
    case 'too_large_decompressed':
      return rendered(wire, {
        ...invalid,
        status: 413,
        message: `${prefix} the body is larger than ${maxBytes} bytes${reason === 'too_large' ? '' : ' once decompressed'} (discovery.maxParseBytes).`,
        openaiCode: 'request_too_large',
        anthropicType: 'request_too_large',
      });
    case 'unsupported_encoding':
      return rendered(wire, {
        ...invalid,
        status: 415,
        message: `${prefix} the body's content-encoding (${encoding}) is not one it reads (gzip, deflate, br).`,
        openaiCode: 'unsupported_content_encoding',
        anthropicType: 'invalid_request_error',
      });
    case 'undecodable':
      return rendered(wire, {
        ...invalid,
        status: 400,
        message: `${prefix} the body cannot be decompressed as its content-encoding (${encoding}) says.`,
        openaiCode: 'invalid_content_encoding',
        anthropicType: 'invalid_request_error',
      });
  }
}

/**
 * A refusal in gRPC's shape, for a gRPC call: a status code (https://grpc.github.io/grpc/core/md_doc_statuscodes.html)
 * and message, answered Trailers-Only (grpc.ts), with `headers` besides.
 */
export interface GrpcRefusal {
  grpcStatus: number;
  message: string;
  headers: Record<string, string>;
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNIMPLEMENTED = 12;

/** PERMISSION_DENIED: what Google's gRPC clients raise as PermissionDenied, as the REST 403 is. */
export function grpcRefusal(provider: string, model: string): GrpcRefusal {
  return {
    grpcStatus: GRPC_PERMISSION_DENIED,
    message: `The model ${provider}/${model} is not sanctioned by your organisation's AI policy (Sluice discovery).`,
    headers: {},
  };
}

/**
 * The refusal of a gRPC call whose model cannot be read from its first message (fail closed, as unreadableRefusal):
 * RESOURCE_EXHAUSTED past the bound, UNIMPLEMENTED for a grpc-encoding it cannot undo (with grpc-accept-encoding, as
 * gRPC servers answer one), INVALID_ARGUMENT for a message not in the coding it claims, or not a protobuf message.
 */
export function grpcUnreadableRefusal(reason: UnreadableBody, encoding: string, maxBytes: number): GrpcRefusal {
  const prefix =
    "Sluice discovery cannot check this call against your organisation's AI policy, so it was not sent: its model cannot be read, because";
  switch (reason) {
    case 'too_large':
    case 'too_large_decompressed':
      return {
        grpcStatus: GRPC_RESOURCE_EXHAUSTED,
        message: `${prefix} its first message is larger than ${maxBytes} bytes${reason === 'too_large' ? '' : ' once decompressed'} (discovery.maxParseBytes).`,
        headers: {},
      };
    case 'unsupported_encoding':
      return {
        grpcStatus: GRPC_UNIMPLEMENTED,
        message: `${prefix} its grpc-encoding (${encoding}) is not one it reads (gzip, deflate).`,
        headers: { 'grpc-accept-encoding': 'identity,gzip,deflate' },
      };
    case 'undecodable':
      return {
        grpcStatus: GRPC_INVALID_ARGUMENT,
        message: `${prefix} its first message is not a protobuf message in the grpc-encoding (${encoding || 'identity'}) it claims.`,
        headers: {},
      };
  }
}

/**
 * The refusal, in enforce mode, of an upgrade request to a catalog host that cannot be checked: one carrying a body (not
 * read for a model; an origin that does not switch would answer it as the call it is), or one to a protocol other than
 * WebSocket (h2c), whose calls would pass unread once switched.
 */
export function upgradeRefusal(wire: WireFormat, protocol: string, withBody: boolean): Refusal {
  const reason = withBody
    ? `it asks to switch protocols (Upgrade: ${protocol}) and carries a body, which is not read for a model`
    : `it asks to switch to ${protocol}, whose calls are not read (WebSocket sessions are)`;
  return rendered(wire, {
    status: 400,
    message: `Sluice discovery cannot check this call against your organisation's AI policy, so it was not sent: ${reason}.`,
    openaiType: 'invalid_request_error',
    openaiCode: 'unsupported_upgrade',
    openaiParam: null,
    anthropicType: 'invalid_request_error',
    googleStatus: 'INVALID_ARGUMENT',
    bedrockType: 'ValidationException',
  });
}

/**
 * The refusal, in enforce mode, of a call to a catalog host whose path is not in its normal form (reading.ts
 * pathNotNormal): the API and model the proxy would read from it may not be those its origin resolves it to.
 */
export function pathRefusal(wire: WireFormat): Refusal {
  return rendered(wire, {
    status: 400,
    message:
      "Sluice discovery cannot check this call against your organisation's AI policy, so it was not sent: its path has an empty or a dot segment (//, /./, /../), which the provider may resolve to another API or model.",
    openaiType: 'invalid_request_error',
    openaiCode: 'path_not_normal',
    openaiParam: null,
    anthropicType: 'invalid_request_error',
    googleStatus: 'INVALID_ARGUMENT',
    bedrockType: 'ValidationException',
  });
}

/**
 * The refusal of a JSON body repeating a key in one of its objects, in enforce mode: JSON.parse reads the last value,
 * the provider's parser may read the first (RFC 8259 4), so the model the proxy checked may not be the one that runs.
 */
export function repeatedKeyRefusal(wire: WireFormat): Refusal {
  return rendered(wire, {
    status: 400,
    message:
      "Sluice discovery cannot check this call against your organisation's AI policy, so it was not sent: its JSON body repeats a key in one of its objects, which the provider may read otherwise than the proxy does.",
    openaiType: 'invalid_request_error',
    openaiCode: 'repeated_key',
    openaiParam: null,
    anthropicType: 'invalid_request_error',
    googleStatus: 'INVALID_ARGUMENT',
    bedrockType: 'ValidationException',
  });
}

/**
 * The reason a refused Live session's close frame gives (1008, policy violation): a close frame has room for 123 bytes of
 * it, so it is short, and a long model name is cut there.
 */
export function liveSessionRefusal(provider: string, model: string): string {
  return `Sluice discovery: ${provider}/${model} is not sanctioned by your organisation's AI policy`;
}

/** The reason a Live session whose setup cannot be read is closed with, in enforce mode (fail closed). */
export function liveSessionUnreadable(reason: LiveSessionUnread, maxBytes: number, waitMs: number): string {
  const prefix = 'Sluice discovery cannot check this session against your AI policy: its setup';
  switch (reason) {
    case 'no_model':
      return `${prefix} names no model`;
    case 'repeated_key':
      return `${prefix} repeats a key`;
    case 'not_utf8':
      return `${prefix} is not valid UTF-8`;
    case 'too_large':
      return `${prefix} is over ${maxBytes} bytes`;
    case 'malformed':
      return `${prefix} is not framed as RFC 6455 says`;
    case 'timeout':
      return `${prefix} did not come within ${waitMs} ms`;
    case 'closed':
      return `${prefix} never came`;
  }
}

/** Answers a call with a refusal instead of the provider. */
export function refuse(res: ServerResponse | Http2ServerResponse, refused: Refusal): void {
  res.writeHead(refused.status, refused.headers);
  res.end(refused.text);
}
