// A forwarded client certificate not yet valid (its notBefore in the future), or one whose Chain= holds a CA certificate
// not yet valid, identifies no one, as on a direct mTLS connection, where the handshake fails with CERT_NOT_YET_VALID;
// so does a root of identity.forwardedCaFile not yet valid for the certificates under it. Each is refused with 401 in the
// caller's shape, naming why, and taken once its validity starts. Real certificates made in the test, calls over HTTP
// from the trusted proxy's address.
import { after, before, describe, test } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { makeCa, type Issued, type TestCa } from '../support/certificates.js';
import {
  assertAnthropicForwardedRefused,
  assertForwardedRefused,
  assertForwardedServed,
  BY,
  CHECKOUT_ID,
  envoyEncodedChain,
  startPlainAndAnchored,
  type PlainAndAnchored,
} from '../support/xfcc.js';
import type { TestSluice } from '../support/sluice.js';

const DAY_MS = 86_400_000;

describe('XFCC certificates and forwarded-CA roots not yet valid', () => {
  let gateways: PlainAndAnchored;
  let bundle: string;
  let plain: TestSluice;
  let anchored: TestSluice;
  let root: TestCa;
  let issuing: TestCa;
  let leaf: Issued;
  let tomorrow: Date;

  const issue = (ca: TestCa, notBefore?: Date): Promise<Issued> =>
    ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID, notBefore });

  const served = (sluice: TestSluice, element: string, what: string): Promise<void> =>
    assertForwardedServed(sluice, element, CHECKOUT_ID, what);
  const refused = assertForwardedRefused;

  before(async () => {
    tomorrow = new Date(Date.now() + DAY_MS);
    root = await makeCa('Mesh Root CA');
    issuing = await root.intermediate('Mesh Issuing CA');
    leaf = await issue(issuing);
    gateways = await startPlainAndAnchored(root, 'sluice-xfcc-not-yet-valid-');
    ({ plain, anchored, bundle } = gateways);
  });

  after(() => gateways.stop());

  test('refuses a leaf whose validity starts tomorrow, in Cert= or Chain=, with or without forwardedCaFile', async () => {
    const early = await issue(issuing, tomorrow);
    for (const sluice of [plain, anchored]) {
      await served(sluice, `${BY};Chain="${envoyEncodedChain(leaf, issuing)}"`, 'the valid leaf');
      for (const [what, element] of [
        ['in Chain=', `${BY};Chain="${envoyEncodedChain(early, issuing)}"`],
        ['in Cert= with Chain=', `${BY};Cert="${envoyEncodedChain(early)}";Chain="${envoyEncodedChain(early, issuing, root)}"`],
      ] as const) {
        await refused(
          sluice,
          element,
          `a leaf not yet valid ${what}`,
          /forwarded client certificate.*not yet valid \(CERT_NOT_YET_VALID\)/,
        );
      }
    }
    // A lone Cert= (a root issued it directly) without forwardedCaFile, and in the Anthropic shape on its Messages route.
    const lone = await issue(root, tomorrow);
    await refused(plain, `${BY};Cert="${envoyEncodedChain(lone)}";URI=${CHECKOUT_ID}`, 'a lone Cert= not yet valid', /not yet valid/);
    await assertAnthropicForwardedRefused(plain, `${BY};Cert="${envoyEncodedChain(lone)}"`, /not yet valid \(CERT_NOT_YET_VALID\)/);
  });

  test('refuses a Chain= whose intermediate, or forwarded root, is not yet valid', async () => {
    const earlyIssuing = await root.intermediate('Mesh Issuing CA', { notBefore: tomorrow });
    const underEarly = await issue(earlyIssuing);
    const earlyRoot = await makeCa('Mesh Root CA', { notBefore: tomorrow });
    const earlyRootIssuing = await earlyRoot.intermediate('Mesh Issuing CA');
    const underEarlyRoot = await issue(earlyRootIssuing);
    for (const [what, chain] of [
      ['an intermediate not yet valid', envoyEncodedChain(underEarly, earlyIssuing)],
      ['an intermediate not yet valid, the root forwarded', envoyEncodedChain(underEarly, earlyIssuing, root)],
      ['a forwarded root not yet valid', envoyEncodedChain(underEarlyRoot, earlyRootIssuing, earlyRoot)],
    ] as const) {
      await refused(plain, `${BY};Chain="${chain}"`, what, /CA certificate of its Chain=\) is not yet valid \(CERT_NOT_YET_VALID\)/);
    }
  });

  test('refuses certificates under a root of identity.forwardedCaFile not yet valid, forwarded or not; takes them under a valid one', async () => {
    const nextRoot = await makeCa('Mesh Root CA 2027', { notBefore: tomorrow });
    const nextIssuing = await nextRoot.intermediate('Mesh Issuing CA 2027');
    const underNext = await issue(nextIssuing);
    // A rollover bundle holding the next root before its validity starts.
    await writeFile(bundle, `${root.cert}${nextRoot.cert}`);
    await anchored.sluice.reload(anchored.config);
    await served(anchored, `${BY};Chain="${envoyEncodedChain(leaf, issuing)}"`, 'under the root valid now');
    const why = /root of identity\.forwardedCaFile .*is not yet valid \(CERT_NOT_YET_VALID\)/;
    await refused(anchored, `${BY};Chain="${envoyEncodedChain(underNext, nextIssuing)}"`, 'under the next root', why);
    // Forwarded in the Chain= too, it is refused as a CA certificate of the Chain= before the roots are looked at.
    const forwarded = `${BY};Chain="${envoyEncodedChain(underNext, nextIssuing, nextRoot)}"`;
    await refused(anchored, forwarded, 'under the next root, forwarded', /Chain=\) is not yet valid \(CERT_NOT_YET_VALID\)/);
    // Without forwardedCaFile the same chain, its root left out, is taken: nothing says when its root starts.
    await served(plain, `${BY};Chain="${envoyEncodedChain(underNext, nextIssuing)}"`, 'without forwardedCaFile');
  });
});
