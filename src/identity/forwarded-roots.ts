// identity.forwardedCaFile: the roots a trusted proxy's forwarded client certificates (XFCC Cert=, Chain=) must chain to.
// Without them a caller behind the proxy can forward a chain of its own making. The PEM bundle is read at start (a file
// that does not read, or holds no CA certificate, fails it) and again at each config reload (one that then does not read
// keeps the roots read before), never per call. A chain is anchored as OpenSSL's X509_verify_cert builds a path to a
// trusted certificate: it ends at the first certificate that is one of the roots, or its last certificate is issued by
// one (X509Certificate.checkIssued: names, key identifiers, key usage; verify: the signature), and no CA certificate of
// that path, the root's included, has more CA certificates below it than its basic constraints' pathLenConstraint allows
// (RFC 5280 sections 4.2.1.9 and 6.1.4 (l), (m): self-issued certificates do not count), no certificate of it breaks
// the name constraints of a CA above it or carries a critical extension Sluice does not process (name-constraints.ts).
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import { signingMarks } from './certificate-extensions.js';
import { notAfter, notBefore } from './client-certificate.js';
import { pathNamesProblem } from './name-constraints.js';

const PEM = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The roots read from the file at one time: a forwarded chain's verdict is remembered per TrustedRoots. */
export interface TrustedRoots {
  readonly certificates: readonly X509Certificate[];
  /** Their SHA-256 fingerprints (node's text), to find a root forwarded in a Chain=. */
  readonly fingerprints: ReadonlySet<string>;
}

/** A root's validity: its notBefore and notAfter, in epoch ms. */
export type Validity = readonly [from: number, to: number];

/** Whether a forwarded chain is anchored, against which roots, and when each root it may end at is valid. */
export interface Anchoring {
  readonly roots: TrustedRoots;
  /** Why it does not end at a root, or null. */
  readonly problem: string | null;
  /** The validity of each root the chain ends at within its path's constraints (none with a problem). */
  readonly rootValidity: readonly Validity[];
}

/** The file's roots, replaced whole at a reload (the calls under way keep the set they read). */
export class ForwardedRoots {
  private constructor(
    readonly file: string,
    public current: TrustedRoots,
  ) {}

  /** Reads the file; null without one. Throws ConfigError naming it when it does not read or holds no CA certificate. */
  static async load(file: string | undefined): Promise<ForwardedRoots | null> {
    return file === undefined ? null : new ForwardedRoots(file, await readRoots(file));
  }

  /** Reads the file again; when it no longer reads, logs why and keeps the roots read before. */
  async reload(logger: Pick<Logger, 'info' | 'error'>): Promise<void> {
    try {
      this.current = await readRoots(this.file);
      logger.info({ file: this.file, roots: this.current.certificates.length }, 'identity.forwardedCaFile read again');
    } catch (error) {
      logger.error(
        { file: this.file, err: (error as Error).message },
        'identity.forwardedCaFile not read again: keeping the roots read before',
      );
    }
  }
}

async function readRoots(file: string): Promise<TrustedRoots> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `identity.forwardedCaFile ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const pems = text.match(PEM);
  if (pems === null) throw new ConfigError(`identity.forwardedCaFile ${file} holds no PEM certificate`);
  const certificates = pems.map((pem, index) => {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new ConfigError(`identity.forwardedCaFile ${file}: certificate ${index + 1} does not read`);
    }
    if (!certificate.ca) {
      throw new ConfigError(
        `identity.forwardedCaFile ${file}: certificate ${index + 1} (${named(certificate)}) is not a CA's (basic constraints cA with keyCertSign): a root must be one`,
      );
    }
    return certificate;
  });
  return { certificates, fingerprints: new Set(certificates.map((certificate) => certificate.fingerprint256)) };
}

/**
 * Whether a chain that chains (leaf first, each certificate the issuer of the one before: forwarded-certificate.ts'
 * chainProblem) ends at one of the roots, within every path length constraint on the way.
 */
export function anchoring(chain: readonly X509Certificate[], roots: TrustedRoots): Anchoring {
  const at = chain.findIndex((certificate) => roots.fingerprints.has(certificate.fingerprint256));
  if (at !== -1) {
    const path = chain.slice(0, at + 1);
    const problem = pathProblem(path, path.length);
    return { roots, problem, rootValidity: problem === null ? [validity(chain[at]!)] : [] };
  }
  const last = chain.at(-1)!;
  const issuers = roots.certificates.filter((root) => last.checkIssued(root) && signedBy(last, root));
  if (issuers.length === 0) {
    const which = chain.length === 1 ? 'the certificate' : `its last certificate (${named(last)})`;
    return {
      roots,
      problem: `it does not end at a root of identity.forwardedCaFile: ${which} is not one, and none of them issued it (its issuer ${last.issuer.replaceAll('\n', ', ')})`,
      rootValidity: [],
    };
  }
  // Roots under one name (a renewed root, one key) may each issue it: the path through any that allows it, valid now.
  let problem: string | null = null;
  const rootValidity: Validity[] = [];
  for (const root of issuers) {
    const found = pathProblem([...chain, root], chain.length);
    if (found === null) rootValidity.push(validity(root));
    else problem ??= found;
  }
  return { roots, problem: rootValidity.length === 0 ? problem : null, rootValidity };
}

/**
 * Why a path (leaf first, its root last) breaks a CA's path length or name constraints, or has a critical extension
 * Sluice does not process; null when it does none. Certificates are numbered as forwarded; those past `forwarded` are the
 * file's root.
 */
function pathProblem(path: readonly X509Certificate[], forwarded: number): string | null {
  const which = (index: number): string =>
    index < forwarded ? `certificate ${index + 1} (${named(path[index]!)})` : `the root (${named(path[index]!)})`;
  return pathLengthProblem(path, which) ?? pathNamesProblem(path, which);
}

/** Why a path (leaf first, its root last) breaks a CA's path length constraint, or null. */
function pathLengthProblem(path: readonly X509Certificate[], which: (index: number) => string): string | null {
  let below = 0;
  for (let index = 1; index < path.length; index++) {
    const certificate = path[index]!;
    const limit = pathLength(certificate);
    if (limit !== null && below > limit) {
      return `${which(index)} allows ${limit} CA certificate${limit === 1 ? '' : 's'} below it (basic constraints pathLen), the chain has ${below}: it breaks a path length constraint`;
    }
    if (certificate.subject !== certificate.issuer) below++;
  }
  return null;
}

/** A CA certificate's pathLenConstraint; null when it sets none or does not parse (OpenSSL read it). */
function pathLength(certificate: X509Certificate): number | null {
  try {
    return signingMarks(certificate.raw).pathLength;
  } catch {
    return null;
  }
}

function validity(root: X509Certificate): Validity {
  return [notBefore(root), notAfter(root)];
}

function named(certificate: X509Certificate): string {
  return certificate.subject.replaceAll('\n', ', ');
}

/** Whether the issuer's key verifies the certificate's signature; false, not an error, for a key of another kind. */
export function signedBy(issued: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return issued.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
