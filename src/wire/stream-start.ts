// Whether a 2xx answer to a stream request starts as the stream it should be, judged from its head and first chunk,
// before the call commits to it: a proxy's HTML page or a JSON body sent with 200 is an upstream failure, not a stream.
import type { StreamFraming } from './exchange.js';

const MEDIA_TYPES: Record<StreamFraming, string> = {
  sse: 'text/event-stream',
  'aws-event-stream': 'application/vnd.amazon.eventstream',
};

/** The SSE fields a stream can open with (a line starting with ':' is a comment, also a valid start). */
const SSE_FIELDS = ['data', 'event', 'id', 'retry'];
const LONGEST_FIELD = 5;
const BOM = [0xef, 0xbb, 0xbf];

/** AWS event-stream frames are at most 16 MB; a prelude claiming more is not one. */
const MAX_AWS_FRAME = 16 * 1024 * 1024;

/** Why this is not the start of a `framing` stream, or null when it is (or the bytes so far cannot tell yet). */
export function streamStartFault(framing: StreamFraming, contentType: string | string[] | undefined, first: Buffer | null): string | null {
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  const expected = MEDIA_TYPES[framing];
  // Checked as sent first: it nearly always is lowercase, and this runs on every streamed call.
  if (type !== undefined && !type.startsWith(expected) && !type.trimStart().toLowerCase().startsWith(expected)) {
    return `answered a stream request with content-type ${JSON.stringify(type.slice(0, 100))}, not ${expected}`;
  }
  if (first === null || first.length === 0) return null;
  const framed = framing === 'sse' ? opensSse(first) : opensAwsFrame(first);
  return framed
    ? null
    : `answered a stream request with bytes that are not ${framing === 'sse' ? 'server-sent events' : 'AWS event-stream frames'}`;
}

/** The first line (after a byte-order mark and blank lines) is a comment or a known field, or a prefix of one. */
function opensSse(first: Buffer): boolean {
  let at = 0;
  while (at < BOM.length && at < first.length && first[at] === BOM[at]) at++;
  if (at < BOM.length) {
    if (at === first.length) return true;
    at = 0;
  }
  while (at < first.length && (first[at] === 0x0a || first[at] === 0x0d)) at++;
  if (at === first.length || first[at] === 0x3a) return true;
  let end = at;
  while (end < first.length && end - at <= LONGEST_FIELD && first[end] !== 0x3a && first[end] !== 0x0a && first[end] !== 0x0d) end++;
  const name = first.toString('latin1', at, end);
  // Cut off by the end of the chunk rather than by ':' or a line end: the rest of the name is still to come.
  const whole = end < first.length;
  for (const field of SSE_FIELDS) if (whole ? field === name : field.startsWith(name)) return true;
  return false;
}

/** A frame's prelude: total length, then headers length, both big-endian, the headers fitting inside the frame. */
function opensAwsFrame(first: Buffer): boolean {
  if (first.length < 8) return true;
  const total = first.readUInt32BE(0);
  const headers = first.readUInt32BE(4);
  return total >= 16 && total <= MAX_AWS_FRAME && headers <= total - 16;
}
