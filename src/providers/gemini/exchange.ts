// The exchanges of a call in Gemini's wire (the Gemini API, and Gemini models on Vertex AI): always translated.
import type { StreamDecoder } from '../../ir/stream.js';
import type { ChatExchange, EmbeddingsExchange, UpstreamRequest } from '../../wire/exchange.js';
import { geminiFailure } from './errors.js';
import { geminiFaultOf } from '../../wire/answer-fault.js';
import { geminiChatResponse, geminiEmbeddingsResponse } from './response.js';
import { GeminiStreamDecoder } from './stream.js';

function streamDecoder(): StreamDecoder {
  return new GeminiStreamDecoder();
}

export function geminiChatExchange(provider: string, request: UpstreamRequest): ChatExchange {
  return {
    provider,
    request,
    passThrough: null,
    response: geminiChatResponse,
    answerFault: geminiFaultOf,
    streamDecoder,
    failure: geminiFailure,
  };
}

export function geminiEmbeddingsExchange(provider: string, request: UpstreamRequest): EmbeddingsExchange {
  return { provider, request, passThrough: null, response: geminiEmbeddingsResponse, failure: geminiFailure };
}
