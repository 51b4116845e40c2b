// Guardrails compiled for the request path: each a set of detectors (PII from @dawn-analytics/redact-pii's built-ins,
// and regular expressions) over the text of a prompt or an answer, in monitor, block or mask mode.
import type { SyncRedactor } from '@dawn-analytics/redact-pii';
import type { GuardrailConfig } from '../../config/guardrails-schema.js';
import { PII_KINDS } from '../../config/guardrails-schema.js';
import { SluiceError } from '../../errors.js';
import type { Consumer } from '../../policy/consumers.js';
import { unsealBlock } from '../frontdoors/openai-responses-reasoning.js';
import { isClaudeSigned } from '../../ir/chat.js';

/**
 * The PII library, loaded by the first config that has a guardrail (loadGuardrailDetectors), not with the gateway: it
 * brings lodash and a names dictionary, some 5 MB of heap that a gateway without guardrails would hold for nothing.
 */
let redactPii: typeof import('@dawn-analytics/redact-pii') | null = null;

/** Loads what `configs` need before a snapshot is built from them: the PII library when there is any guardrail. */
export async function loadGuardrailDetectors(configs: readonly GuardrailConfig[]): Promise<void> {
  if (configs.length > 0) redactPii ??= await import('@dawn-analytics/redact-pii');
}

/** What a masked match becomes when a pattern (not a PII detector, which names its kind) found it. */
const PATTERN_MASK = '[REDACTED]';

class Guardrail {
  readonly name: string;
  readonly mode: GuardrailConfig['mode'];
  readonly onInput: boolean;
  readonly onOutput: boolean;
  private readonly consumers: ReadonlySet<string> | null;
  private readonly models: ReadonlySet<string> | null;
  private readonly redactor: SyncRedactor;

  constructor(config: GuardrailConfig) {
    this.name = config.name;
    this.mode = config.mode;
    this.onInput = config.on !== 'output';
    this.onOutput = config.on !== 'input';
    this.consumers = config.consumers === undefined ? null : new Set(config.consumers);
    this.models = config.models === undefined ? null : new Set(config.models);
    const builtIns: Record<string, { enabled: boolean }> = {
      names: { enabled: false },
      digits: { enabled: false },
      url: { enabled: false },
      zipcode: { enabled: false },
      username: { enabled: false },
      password: { enabled: false },
    };
    for (const kind of PII_KINDS) builtIns[kind] = { enabled: config.pii.includes(kind) };
    if (redactPii === null) throw new Error('guardrails built before loadGuardrailDetectors() loaded their library');
    this.redactor = new redactPii.SyncRedactor({
      builtInRedactors: builtIns,
      customRedactors: {
        before: config.patterns.map((source) => ({ regexpPattern: new RegExp(source, 'giu'), replaceWith: PATTERN_MASK })),
      },
    });
  }

  applies(consumer: Consumer, model: string): boolean {
    return (this.consumers === null || this.consumers.has(consumer.name)) && (this.models === null || this.models.has(model));
  }

  /** The text with every match replaced; the same string when nothing matched. */
  redact(text: string): string {
    return this.redactor.redact(text);
  }
}

/** What checking a body found: the guardrails in monitor mode that matched (recorded as violations). */
export interface GuardOutcome {
  body: Record<string, unknown>;
  violations: string[];
}

export class Guardrails {
  private readonly all: readonly Guardrail[];

  constructor(configs: readonly GuardrailConfig[]) {
    this.all = configs.map((config) => new Guardrail(config));
  }

  get empty(): boolean {
    return this.all.length === 0;
  }

  /**
   * Checks the text of a request body (its messages and system prompt) or an answer body (`side`), returning the body to
   * send on: masked where a mask guardrail matched. Throws the caller's 400 where a block guardrail matched.
   */
  check(side: 'input' | 'output', consumer: Consumer, model: string, body: Record<string, unknown>): GuardOutcome {
    let current = body;
    const violations: string[] = [];
    for (const guardrail of this.all) {
      if (!(side === 'input' ? guardrail.onInput : guardrail.onOutput) || !guardrail.applies(consumer, model)) continue;
      const fields = side === 'input' ? INPUT_FIELDS : OUTPUT_FIELDS;
      const masked = mapTexts(current, fields, (text) => guardrail.redact(text), false, side);
      if (masked === current) continue;
      if (guardrail.mode === 'block') {
        throw new SluiceError(
          'invalid_request',
          side === 'input'
            ? `The request was blocked by guardrail '${guardrail.name}': it contains text the guardrail does not allow.`
            : `The answer was withheld by guardrail '${guardrail.name}': it contains text the guardrail does not allow.`,
          side === 'input' ? { param: body.messages === undefined && body.input !== undefined ? 'input' : 'messages' } : {},
        );
      }
      violations.push(`guardrail:${guardrail.name}`);
      if (guardrail.mode === 'mask') current = masked;
    }
    return { body: current, violations };
  }
}

/**
 * The fields whose strings are the prompt's text (OpenAI chat, Anthropic messages, and the Responses API's input,
 * instructions and function call outputs) and the answer's (choices, content, a refusal, a response's output).
 */
const INPUT_FIELDS: ReadonlySet<string> = new Set(['messages', 'system', 'content', 'text', 'input', 'instructions', 'output']);
const OUTPUT_FIELDS: ReadonlySet<string> = new Set([
  'choices',
  'message',
  'content',
  'text',
  'output',
  'refusal',
  // The model's reasoning as text: DeepSeek's field (also Sluice's, translated), vLLM's and OpenRouter's.
  'reasoning_content',
  'reasoning',
]);

/**
 * `value` with `map` applied to every string reached through `fields` from the top (never to keys, roles, ids or tool
 * arguments: OpenAI's `arguments`, Anthropic's nested `input`); the same object when nothing changed, so a caller can
 * tell. Never mutates its input. Claude's signed thinking blocks (`thinking_blocks`, which Sluice gives OpenAI-shaped
 * clients to carry back) are checked in an answer, and left out of it whole where a mask would change them (a changed
 * block fails Claude's signature check when it comes back), as is a Responses API reasoning item's encrypted_content
 * holding one; coming back in a prompt, they are the model's own answer, already checked, and are left as they are.
 */
function mapTexts<T>(value: T, fields: ReadonlySet<string>, map: (text: string) => string, inside: boolean, side: 'input' | 'output'): T {
  if (typeof value === 'string') return (inside ? map(value) : value) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item: unknown) => {
      const mapped = mapTexts(item, fields, map, inside, side);
      if (mapped !== item) changed = true;
      return mapped;
    });
    return (changed ? out : value) as T;
  }
  if (typeof value === 'object' && value !== null) {
    let out: Record<string, unknown> | null = null;
    const record = value as Record<string, unknown>;
    // A plain-text document's source (Anthropic's `{type: "text", media_type: "text/plain", data}`) holds prompt text in
    // `data`, where every other source holds base64 or a URL.
    const textSource = inside && record.type === 'text' && record.media_type === 'text/plain';
    for (const [key, item] of Object.entries(record)) {
      // Nested, `input` is a tool call's arguments (Anthropic's tool_use), not text: left as OpenAI's arguments string is.
      if (inside && key === 'input') continue;
      if (textSource && key === 'data' && typeof item === 'string') {
        const mapped = map(item);
        if (mapped !== item) (out ??= { ...record })[key] = mapped;
        continue;
      }
      if (key === 'thinking' && side === 'output' && inside && typeof item === 'string' && record.type === 'thinking') {
        // Another provider's reasoning in a thinking block Sluice made: no signature to break, so masked as text is.
        // Claude's signed blocks are left as they are.
        const mapped = isClaudeSigned(record) ? item : map(item);
        if (mapped !== item) (out ??= { ...record })[key] = mapped;
        continue;
      }
      if (key === 'thinking_blocks') {
        if (side === 'output' && Array.isArray(item) && thinkingChanges(item, map)) delete (out ??= { ...record })[key];
        continue;
      }
      if (key === 'encrypted_content') {
        // A Responses API reasoning item's: Claude's signed block when Sluice gave it, kept out as thinking_blocks are.
        const block = side === 'output' ? unsealBlock(item) : null;
        if (block !== null && thinkingChanges([block], map)) delete (out ??= { ...record })[key];
        continue;
      }
      const enters = fields.has(key) || (inside && typeof item === 'object' && item !== null);
      if (!enters) continue;
      const mapped = mapTexts(item, fields, map, fields.has(key) || inside, side);
      if (mapped !== item) (out ??= { ...record })[key] = mapped;
    }
    return (out ?? value) as T;
  }
  return value;
}

/** Whether `map` changes the thinking text of any of Claude's thinking blocks. */
function thinkingChanges(blocks: unknown[], map: (text: string) => string): boolean {
  for (const block of blocks) {
    const thinking = (block as Record<string, unknown> | null)?.thinking;
    if (typeof thinking === 'string' && map(thinking) !== thinking) return true;
  }
  return false;
}
