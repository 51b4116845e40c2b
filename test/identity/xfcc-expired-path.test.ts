// The validity of every certificate on a forwarded chain's path, at the time of each call: the leaf's, each
// intermediate's of its Chain=, and the root's, forwarded or only in identity.forwardedCaFile (a lone Cert= the root
// issued directly included). One expired refuses the call with 401 (CERT_HAS_EXPIRED), and a chain's verdict, remembered
// until a reload, is not taken past the earliest notAfter on its path. Real certificates made in the test, calls over
// HTTP from the trusted proxy's address.
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import { makeCa, type Issued, type TestCa } from '../support/certificates.js';
import {
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

describe('XFCC paths with a certificate expired, or expiring between calls', () => {
  let gateways: PlainAndAnchored;
  let bundle: string;
  let plain: TestSluice;
  let anchored: TestSluice;
  let root: TestCa;

  const issue = (ca: TestCa): Promise<Issued> => ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
  const chain = (...certificates: Array<Issued | TestCa>): string => `${BY};Chain="${envoyEncodedChain(...certificates)}"`;
  const lone = (leaf: Issued): string => `${BY};Cert="${envoyEncodedChain(leaf)}"`;
  const served = (sluice: TestSluice, element: string, what: string): Promise<void> =>
    assertForwardedServed(sluice, element, CHECKOUT_ID, what);
  const refused = assertForwardedRefused;
  const rootExpired = /root of identity\.forwardedCaFile .*has expired \(CERT_HAS_EXPIRED\)/;
  const chainExpired = /CA certificate of its Chain=\) has expired \(CERT_HAS_EXPIRED\)/;
  /** Until the certificates' notAfter (whole seconds, as X.509 writes it) has passed. */
  const past = (notAfter: Date): Promise<void> => sleep(Math.floor(notAfter.getTime() / 1000) * 1000 + 1100 - Date.now());

  before(async () => {
    root = await makeCa('Mesh Root CA');
    gateways = await startPlainAndAnchored(root, 'sluice-xfcc-expired-path-');
    ({ plain, anchored, bundle } = gateways);
  });

  after(() => gateways.stop());

  test('refuses a path whose root in the file, or a forwarded intermediate or root, has expired', async () => {
    const yesterday = new Date(Date.now() - DAY_MS);
    const oldRoot = await makeCa('Mesh Root CA 2025', { notBefore: new Date(Date.now() - 2 * DAY_MS), notAfter: yesterday });
    const oldIssuing = await oldRoot.intermediate('Mesh Issuing CA 2025');
    const expiredIssuing = await root.intermediate('Mesh Issuing CA', {
      notBefore: new Date(Date.now() - 2 * DAY_MS),
      notAfter: yesterday,
    });
    await writeFile(bundle, `${root.cert}${oldRoot.cert}`);
    await anchored.sluice.reload(anchored.config);
    await served(anchored, lone(await issue(root)), 'a lone Cert= the valid root issued');
    await refused(anchored, lone(await issue(oldRoot)), 'a lone Cert= the expired root issued', rootExpired);
    await refused(anchored, chain(await issue(oldIssuing), oldIssuing), 'a chain under the expired root', rootExpired);
    for (const sluice of [plain, anchored]) {
      await refused(sluice, chain(await issue(expiredIssuing), expiredIssuing), 'an expired intermediate', chainExpired);
      await refused(sluice, chain(await issue(expiredIssuing), expiredIssuing, root), 'the same, the root forwarded', chainExpired);
      await refused(sluice, chain(await issue(oldIssuing), oldIssuing, oldRoot), 'an expired root forwarded', chainExpired);
    }
  });

  test('a chain served while valid is refused once an intermediate, or the root in the file, expires', async () => {
    const soon = new Date(Date.now() + 3000);
    const brief = await root.intermediate('Mesh Issuing CA', { notAfter: soon });
    const shortRoot = await makeCa('Mesh Root CA short', { notAfter: soon });
    await writeFile(bundle, `${root.cert}${shortRoot.cert}`);
    await anchored.sluice.reload(anchored.config);
    const underBrief = chain(await issue(brief), brief);
    const underShortRoot = lone(await issue(shortRoot));
    for (const sluice of [plain, anchored]) await served(sluice, underBrief, 'under an intermediate valid 3 s more');
    await served(anchored, underShortRoot, 'a lone Cert= of a root valid 3 s more');
    await past(soon);
    for (const sluice of [plain, anchored]) await refused(sluice, underBrief, 'its intermediate expired since', chainExpired);
    await refused(anchored, underShortRoot, 'its root expired since', rootExpired);
  });
});
