// The `keys` section of sluice.yaml: how long a consumer key made through the director lives when no end is given
// (`defaultExpiry`), and the latest end one may be given (`maxExpiry`). src/policy/key-expiry.ts applies them.
import { z } from 'zod';
import { DURATION, durationMs } from './governance-schema.js';

/** A century: longer lifetimes are no policy, and keep every end far inside a safe integer of milliseconds. */
const LONGEST_MS = 36_500 * 86_400_000;

const lifetime = () =>
  z
    .string()
    .max(32)
    .regex(DURATION, 'a duration such as 90d, 12h or 30m')
    .refine((text) => !DURATION.test(text) || durationMs(text) <= LONGEST_MS, 'at most 36500d')
    .describe('a duration such as 90d');

export const keysSchema = z
  .object({
    /** A new key's lifetime when its creator gives no end; absent: no end (or maxExpiry, when that is set). */
    defaultExpiry: lifetime().optional(),
    /** The longest a new key may live; absent: no limit, and a key may be made with no end at all. */
    maxExpiry: lifetime().optional(),
  })
  .strict()
  .refine(
    (keys) =>
      keys.defaultExpiry === undefined || keys.maxExpiry === undefined || durationMs(keys.defaultExpiry) <= durationMs(keys.maxExpiry),
    { message: 'defaultExpiry is longer than maxExpiry', path: ['defaultExpiry'] },
  );

export type KeysConfig = z.infer<typeof keysSchema>;
