// Provider credentials are sealed with the master key (SLUICE_MASTER_KEY) before they reach the store, and opened only
// where a gateway builds its routing table: the database, its backups, the audit log and the snapshot lone gateways poll
// hold ciphertext. AES-256-GCM (node:crypto) with the provider's name as associated data, so a sealed value copied onto
// another provider's row does not open. A rotation gives a process the new key and the keys it replaces
// (SLUICE_MASTER_KEY_PREVIOUS): it seals with the new one and opens what either sealed, and a director seals again at
// start what a previous key sealed (src/director/master-key-rotation.ts).
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** `v1.<key id>.<iv, tag and ciphertext, base64url>`: at least the IV and tag. */
const SEALED = /^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{38,}$/;

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export class MasterKey {
  /** Names the key in every sealed value, so a value sealed under another key is told apart from a corrupt one. */
  readonly id: string;
  private readonly key: Buffer;
  /** The keys this one replaces, by id: what they sealed still opens, until it is sealed again under this one. */
  private readonly previous: ReadonlyMap<string, Buffer>;

  private constructor(key: Buffer, previous: ReadonlyMap<string, Buffer> = new Map()) {
    this.key = key;
    this.id = keyId(key);
    this.previous = previous;
  }

  /** 32 bytes, written as 64 hex digits or as base64 / base64url (what `openssl rand -base64 32` prints). */
  static parse(text: string, source = 'SLUICE_MASTER_KEY'): MasterKey {
    const value = text.trim();
    const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
    if (bytes.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(value) && !/^[A-Za-z0-9+/_-]{43}=?$/.test(value))) {
      throw new MasterKeyError(`${source}: expected 32 random bytes as 64 hex digits or base64 (e.g. from \`openssl rand -base64 32\`)`);
    }
    return new MasterKey(bytes);
  }

  /** Whether `value` has the form of a sealed value (a plaintext secret of that form would be a deliberate oddity). */
  static isSealed(value: string): boolean {
    return SEALED.test(value);
  }

  /**
   * The keys a rotation replaces, as SLUICE_MASTER_KEY_PREVIOUS lists them: each written as SLUICE_MASTER_KEY is,
   * separated by commas or white space. None when unset or empty.
   */
  static parseList(text: string | undefined, source = 'SLUICE_MASTER_KEY_PREVIOUS'): MasterKey[] {
    if (text === undefined) return [];
    return text
      .split(/[\s,]+/)
      .filter((part) => part !== '')
      .map((part, index, parts) => MasterKey.parse(part, parts.length === 1 ? source : `${source} (key ${index + 1})`));
  }

  /** The key id a sealed value names (null when it is not in the sealed form). */
  static sealedWith(sealed: string): string | null {
    return MasterKey.isSealed(sealed) ? sealed.split('.')[1]! : null;
  }

  static generate(): { key: MasterKey; text: string } {
    const bytes = randomBytes(32);
    return { key: new MasterKey(bytes), text: bytes.toString('base64') };
  }

  /** This key, opening also what `keys` sealed (a rotation in progress); it still seals with itself alone. */
  replacing(keys: readonly MasterKey[]): MasterKey {
    if (keys.length === 0) return this;
    const previous = new Map(this.previous);
    for (const key of keys) {
      if (key.id !== this.id) previous.set(key.id, key.key);
      for (const [id, bytes] of key.previous) if (id !== this.id) previous.set(id, bytes);
    }
    return new MasterKey(this.key, previous);
  }

  /** The ids of the keys this one replaces. */
  get replaces(): string[] {
    return [...this.previous.keys()];
  }

  /**
   * Keys for another use of the deployment's shared secret (`purpose` names it: HKDF-SHA256, so none of them tells the
   * master key or another purpose's key): this key's first, then one per key it replaces, for what they made to still
   * verify during a rotation. Computed once, at start.
   */
  derive(purpose: string): Buffer[] {
    return [this.key, ...this.previous.values()].map((key) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), purpose, 32)));
  }

  /** `context` (the provider's name) must be given again to open it. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${FORMAT}.${this.id}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const [format, keyId, payload] = sealed.split('.');
    if (format !== FORMAT || keyId === undefined || payload === undefined)
      throw new MasterKeyError(`credentials of "${context}" are not in a known sealed format`);
    const key = keyId === this.id ? this.key : this.previous.get(keyId);
    if (key === undefined) {
      const replaced = this.previous.size === 0 ? '' : ` nor with one it replaces (${this.replaces.join(', ')})`;
      throw new MasterKeyError(
        `credentials of "${context}" were sealed with master key ${keyId}, not with this process's (${this.id})${replaced}: set SLUICE_MASTER_KEY to the director's key, or list the key it replaced in SLUICE_MASTER_KEY_PREVIOUS`,
      );
    }
    const bytes = Buffer.from(payload, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new MasterKeyError(`credentials of "${context}" do not open: altered, or sealed for another provider`);
    }
  }
}

function keyId(key: Buffer): string {
  return createHash('sha256').update('sluice master key id\u0000').update(key).digest('hex').slice(0, 8);
}
