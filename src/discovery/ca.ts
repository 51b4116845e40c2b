// The organisation CA of the discovery proxy and the leaf certificates it mints, with @peculiar/x509 over node's WebCrypto
// (never a shell-out to openssl). `sluice ca init` writes the CA; the proxy mints one leaf per intercepted host on first
// use, caches it and mints a new one before it expires. All leaves share one key pair made at start.
import { webcrypto, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isIP } from 'node:net';
// @peculiar/x509 needs a Reflect metadata polyfill loaded before it (its README).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface CertificateAuthority {
  certPem: string;
  keyPem: string;
  cert: x509.X509Certificate;
  key: CryptoKey;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // a positive integer
  return bytes.toString('hex');
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

/** A new self-signed CA (10 years unless told): its certificate and PKCS#8 key in PEM. */
export async function createCertificateAuthority(commonName = 'Sluice discovery CA', validityDays = 3650): Promise<CertificateAuthority> {
  const keys = await keyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName.replace(/[,=+<>#;\\"]/g, ' ')}, O=Sluice`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + validityDays * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey), cert, key: keys.privateKey };
}

export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const der = x509.PemConverter.decodeFirst(keyPem);
  const key = (await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign'])) as unknown as CryptoKey;
  return { certPem, keyPem, cert, key };
}

/** Reads the CA files; a clear error naming them when they are missing. */
export async function readCertificateAuthority(certFile: string, keyFile: string): Promise<CertificateAuthority> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (error) {
    throw new Error(
      `cannot read the discovery CA (${certFile}, ${keyFile}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; ` +
        'run "sluice ca init" first',
    );
  }
  return loadCertificateAuthority(certPem, keyPem);
}

/** `sluice ca init`: writes a new CA; the key with mode 0600. Refuses to overwrite an existing one unless forced. */
export async function writeCertificateAuthority(
  certFile: string,
  keyFile: string,
  options: { force?: boolean; commonName?: string } = {},
): Promise<CertificateAuthority> {
  if (options.force !== true) {
    for (const file of [certFile, keyFile]) {
      const exists = await access(file).then(
        () => true,
        () => false,
      );
      if (exists) throw new Error(`${file} exists; pass --force to replace the CA (every client must then trust the new one)`);
    }
  }
  const ca = await createCertificateAuthority(options.commonName);
  await mkdir(dirname(keyFile), { recursive: true });
  await mkdir(dirname(certFile), { recursive: true });
  await writeFile(keyFile, ca.keyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await writeFile(certFile, ca.certPem, { mode: 0o644 });
  return ca;
}

/** A server certificate for `hosts` (DNS names or IP addresses) signed by `ca`, with the given key pair. */
export async function issueCertificate(
  ca: CertificateAuthority,
  hosts: readonly string[],
  validityDays: number,
  keys?: CryptoKeyPair,
): Promise<IssuedCertificate & { keys: CryptoKeyPair }> {
  const pair = keys ?? (await keyPair());
  const now = Date.now();
  const notAfter = new Date(now + validityDays * DAY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${hosts[0]!}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - 3_600_000),
    notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey: pair.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((host) => (isIP(host) === 0 ? { type: 'dns' as const, value: host } : { type: 'ip' as const, value: host })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(pair.privateKey), notAfter, keys: pair };
}

interface CachedLeaf {
  context: SecureContext;
  renewAt: number;
}

/**
 * How many hosts' leaves are kept. Wildcard catalog patterns (`*.openai.azure.com`) stand for any number of names, and a
 * client can name a new one in each CONNECT: the least recently used leaf goes (and is minted again if asked for).
 */
export const MAX_CACHED_LEAVES = 10_000;

/** Leaf certificates per host, minted on first use (one mint at a time per host), renewed once past two thirds of their life. */
export class LeafCertificates {
  private readonly ca: CertificateAuthority;
  private readonly validityDays: number;
  private readonly cache: LRUCache<string, CachedLeaf>;
  private readonly minting: Map<string, Promise<SecureContext>>;
  private keys: Promise<{ pair: CryptoKeyPair; pem: string }> | null;
  /** Leaves minted so far (for metrics and tests). */
  minted: number;

  constructor(ca: CertificateAuthority, validityDays: number, maxCached = MAX_CACHED_LEAVES) {
    this.ca = ca;
    this.validityDays = validityDays;
    this.cache = new LRUCache({ max: maxCached });
    this.minting = new Map();
    this.keys = null;
    this.minted = 0;
  }

  /** Hosts whose leaves are cached now. */
  get cached(): number {
    return this.cache.size;
  }

  /** The TLS context presenting `host`'s leaf (and the CA after it). */
  context(host: string): Promise<SecureContext> | SecureContext {
    const name = host.toLowerCase();
    const cached = this.cache.get(name);
    if (cached !== undefined && cached.renewAt > Date.now()) return cached.context;
    let pending = this.minting.get(name);
    if (pending === undefined) {
      pending = this.mint(name).finally(() => this.minting.delete(name));
      this.minting.set(name, pending);
    }
    return pending;
  }

  private async mint(host: string): Promise<SecureContext> {
    this.keys ??= keyPair().then(async (pair) => ({ pair, pem: await privateKeyPem(pair.privateKey) }));
    const { pair, pem } = await this.keys;
    const leaf = await issueCertificate(this.ca, [host], this.validityDays, pair);
    const context = createSecureContext({ cert: `${leaf.certPem}\n${this.ca.certPem}`, key: pem });
    const lifetime = leaf.notAfter.getTime() - Date.now();
    this.cache.set(host, { context, renewAt: Date.now() + (lifetime * 2) / 3 });
    this.minted++;
    return context;
  }
}
