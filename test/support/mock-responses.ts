// The OpenAI Responses API's wire as a mock OpenAI (or Azure OpenAI) answers it: response objects and the event stream,
// shaped as https://platform.openai.com/docs/api-reference/responses-streaming documents them.

export interface MockUsage {
  input_tokens: number;
  output_tokens: number;
  cached_tokens?: number;
  /** Input tokens written to the prompt cache (`input_tokens_details.cache_write_tokens`); left out when absent. */
  cache_write_tokens?: number;
  reasoning_tokens?: number;
}

function usageOf(usage: MockUsage) {
  return {
    input_tokens: usage.input_tokens,
    input_tokens_details: {
      cached_tokens: usage.cached_tokens ?? 0,
      ...(usage.cache_write_tokens !== undefined && { cache_write_tokens: usage.cache_write_tokens }),
    },
    output_tokens: usage.output_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
    total_tokens: usage.input_tokens + usage.output_tokens,
  };
}

function responseBase(model: string, id: string) {
  return {
    id,
    object: 'response',
    created_at: 1_760_000_000,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model,
    parallel_tool_calls: true,
    previous_response_id: null,
    store: true,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    user: null,
    metadata: {},
  };
}

export function messageItem(text: string) {
  return {
    id: 'msg_mock1',
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

export function functionCallItem(name: string, args: string) {
  return { id: 'fc_mock1', type: 'function_call', status: 'completed', call_id: 'call_mock1', name, arguments: args };
}

export function responseObject(output: unknown[], usage: MockUsage, model = 'gpt-4o-mini-2024-07-18', id = 'resp_mock1') {
  return { ...responseBase(model, id), status: 'completed', output, usage: usageOf(usage) };
}

/** The events of a streamed text answer, each as its own SSE frame with the event name, numbered. */
export function responseStreamFrames(pieces: string[], usage: MockUsage, model = 'gpt-4o-mini-2024-07-18'): string[] {
  let sequence = 0;
  const frame = (type: string, fields: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
  const text = pieces.join('');
  const inProgress = { ...responseBase(model, 'resp_stream1'), status: 'in_progress', output: [], usage: null };
  const item = { id: 'msg_s1', type: 'message', status: 'in_progress', role: 'assistant', content: [] };
  const at = { item_id: 'msg_s1', output_index: 0, content_index: 0 };
  const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
  const done = { ...item, status: 'completed', content: [{ ...part, text }] };
  return [
    frame('response.created', { response: inProgress }),
    frame('response.in_progress', { response: inProgress }),
    frame('response.output_item.added', { output_index: 0, item }),
    frame('response.content_part.added', { ...at, part }),
    ...pieces.map((delta) => frame('response.output_text.delta', { ...at, delta, logprobs: [] })),
    frame('response.output_text.done', { ...at, text, logprobs: [] }),
    frame('response.content_part.done', { ...at, part: { ...part, text } }),
    frame('response.output_item.done', { output_index: 0, item: done }),
    frame('response.completed', {
      response: { ...responseBase(model, 'resp_stream1'), status: 'completed', output: [done], usage: usageOf(usage) },
    }),
  ];
}
