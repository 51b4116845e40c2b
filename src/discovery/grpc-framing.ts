// gRPC's framing as the discovery proxy reads it: a compressed flag and a 4-byte big-endian length before each message
// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md), parsed as bytes pass, each message bounded by
// `maxParseBytes`; a compressed message is undone by the call's `grpc-encoding` (gzip, deflate) within the same bound.
import { decodeContent, type Undecodable } from '../wire/content-coding.js';
import type { UnreadableBody } from './reading.js';

/** Why a gRPC message cannot be read: the body's reasons, and a message compressed without a grpc-encoding to undo it. */
export type UnreadableMessage = UnreadableBody;

/**
 * gRPC's framing, as bytes pass: each message whole once its length is in, handed on (`onMessage`) with its compressed
 * flag. A message longer than `maxBytes` is skipped (its bytes still pass; `oversized` says one was).
 */
export class GrpcFramer {
  private readonly maxBytes: number;
  private readonly onMessage: (message: Buffer, compressed: boolean) => void;
  private head: Buffer;
  private headSize: number;
  private body: Buffer[];
  private bodySize: number;
  /** Bytes of the current message still to come (or to skip); -1 while its head is being read. */
  private left: number;
  private skipping: boolean;
  private compressed: boolean;
  oversized: boolean;

  constructor(maxBytes: number, onMessage: (message: Buffer, compressed: boolean) => void) {
    this.maxBytes = maxBytes;
    this.onMessage = onMessage;
    this.head = Buffer.alloc(5);
    this.headSize = 0;
    this.body = [];
    this.bodySize = 0;
    this.left = -1;
    this.skipping = false;
    this.compressed = false;
    this.oversized = false;
  }

  /** Whether a message was begun and not finished (a body cut short, or still coming). */
  get partial(): boolean {
    return this.headSize > 0 || this.left >= 0;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.left < 0) {
        const take = Math.min(5 - this.headSize, chunk.length - at);
        chunk.copy(this.head, this.headSize, at, at + take);
        this.headSize += take;
        at += take;
        if (this.headSize < 5) return;
        this.headSize = 0;
        this.compressed = (this.head[0]! & 1) === 1;
        this.left = this.head.readUInt32BE(1);
        this.skipping = this.left > this.maxBytes;
        if (this.skipping) this.oversized = true;
      } else {
        const take = Math.min(this.left, chunk.length - at);
        if (!this.skipping) {
          this.body.push(chunk.subarray(at, at + take));
          this.bodySize += take;
        }
        this.left -= take;
        at += take;
      }
      if (this.left === 0) this.finish();
    }
  }

  private finish(): void {
    this.left = -1;
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    const message = this.body.length === 1 ? Buffer.from(this.body[0]!) : Buffer.concat(this.body, this.bodySize);
    this.body = [];
    this.bodySize = 0;
    this.onMessage(message, this.compressed);
  }
}

/** A message as sent, its compression undone by the call's `grpc-encoding` within `maxBytes`; or why it cannot be. */
export async function grpcMessage(
  message: Buffer,
  compressed: boolean,
  encoding: string,
  maxBytes: number,
): Promise<Buffer | UnreadableMessage> {
  if (!compressed) return message;
  // A compressed message with no encoding to undo it (identity, or none named) is not in the coding it claims.
  if (encoding === '' || encoding === 'identity') return 'undecodable' satisfies Undecodable;
  const decoded = await decodeContent([encoding], message, maxBytes);
  return decoded;
}
