// identity.forwardedCaFile: the roots a trusted proxy's forwarded client certificates must chain to. Without it a caller
// behind the proxy can forward a chain of its own making; with it a Chain= (or a lone Cert=) must end at one of the file's
// roots, each CA's path length constraint respected, or the call is refused with 401 naming why. The file is read at
// start and again at a config reload. Real certificates made in the test, calls over HTTP from the proxy's address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/load.js';
import { makeCa, type Issued, type TestCa } from '../support/certificates.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import {
  assertAnthropicForwardedRefused,
  assertForwardedRefused,
  assertForwardedServed,
  BY,
  CHECKOUT_ID,
  envoyEncodedChain,
  startMeshSluice,
} from '../support/xfcc.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

describe('XFCC certificates anchored to identity.forwardedCaFile', () => {
  let mock: MockProvider;
  let folder: string;
  let bundle: string;
  let anchored: TestSluice;
  let unanchored: TestSluice;
  let root: TestCa;
  let otherRoot: TestCa;
  let issuing: TestCa;
  let leaf: Issued;

  const served = (sluice: TestSluice, element: string, what: string): Promise<void> =>
    assertForwardedServed(sluice, element, CHECKOUT_ID, what);
  const refused = assertForwardedRefused;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'sluice-xfcc-anchor-'));
    bundle = join(folder, 'mesh-roots.pem');
    root = await makeCa('Mesh Root CA');
    otherRoot = await makeCa('Mesh Root CA 2026');
    issuing = await root.intermediate('Mesh Issuing CA');
    leaf = await issuing.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    // A bundle of two roots, as a CA rollover has, with text around them as bundles often carry.
    await writeFile(bundle, `# mesh roots\n${otherRoot.cert}\nMesh Root CA\n${root.cert}`);
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello through the mesh')));
    anchored = await startMeshSluice(mock.url, CHECKOUT_ID, { forwardedCaFile: bundle });
    unanchored = await startMeshSluice(mock.url, CHECKOUT_ID);
  });

  after(async () => {
    await anchored.stop();
    await unanchored.stop();
    await mock.close();
    await rm(folder, { recursive: true, force: true });
  });

  test('takes a chain that ends at a root of the file, with or without the root, and a lone Cert= a root issued', async () => {
    const direct = await root.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    const otherIssuing = await otherRoot.intermediate('Mesh Issuing CA 2026');
    const underOther = await otherIssuing.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    for (const [what, element] of [
      ['leaf and intermediate', `${BY};Chain="${envoyEncodedChain(leaf, issuing)}"`],
      ['leaf, intermediate and root', `${BY};Cert="${envoyEncodedChain(leaf)}";Chain="${envoyEncodedChain(leaf, issuing, root)}"`],
      ['a lone Cert= the root issued', `${BY};Cert="${envoyEncodedChain(direct)}";URI=${CHECKOUT_ID}`],
      ["a chain under the bundle's other root", `${BY};Chain="${envoyEncodedChain(underOther, otherIssuing)}"`],
    ] as const) {
      await served(anchored, element, what);
    }
  });

  test("refuses with 401 a chain of the caller's own making, and a Cert= without the intermediate that links it", async () => {
    const selfRoot = await makeCa('Mesh Root CA');
    const selfIssuing = await selfRoot.intermediate('Mesh Issuing CA');
    const forged = await selfIssuing.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    for (const [what, element] of [
      ['a self-made chain under the real names', `${BY};Chain="${envoyEncodedChain(forged, selfIssuing, selfRoot)}"`],
      ['a self-made chain without its root', `${BY};Chain="${envoyEncodedChain(forged, selfIssuing)}";URI=${CHECKOUT_ID}`],
      ['a self-made leaf in Cert=', `${BY};Cert="${envoyEncodedChain(forged)}"`],
    ] as const) {
      // The gateway without the setting takes it, as before: the risk the setting closes.
      await served(unanchored, element, `without forwardedCaFile, ${what}`);
      await refused(anchored, element, what, /does not end at a root of identity\.forwardedCaFile/);
    }
    // The real leaf, its intermediate left out: nothing links it to a root.
    await refused(anchored, `${BY};Cert="${envoyEncodedChain(leaf)}"`, 'a Cert= without its intermediate', /forwardedCaFile/);
    // In the Anthropic shape on its Messages route.
    const selfMade = `${BY};Chain="${envoyEncodedChain(forged, selfIssuing)}"`;
    await assertAnthropicForwardedRefused(anchored, selfMade, /does not end at a root of identity\.forwardedCaFile/);
  });

  test('refuses an element with no certificate at all: its URI= and Subject= could not be checked against a root', async () => {
    await served(unanchored, `${BY};Subject="";URI=${CHECKOUT_ID}`, 'without forwardedCaFile, URI= alone');
    await refused(anchored, `${BY};Subject="";URI=${CHECKOUT_ID}`, 'URI= alone', /no certificate.*forwardedCaFile/);
  });

  test('respects the path length constraint of the root and of each intermediate', async () => {
    const strict = await makeCa('Strict Root CA', { pathLength: 0 });
    const underStrict = await strict.intermediate('Strict Issuing CA');
    const pathZero = await root.intermediate('Mesh Team CA', { pathLength: 0 });
    const belowZero = await pathZero.intermediate('Mesh Team Issuing CA');
    const pathOne = await root.intermediate('Mesh Region CA', { pathLength: 1 });
    const belowOne = await pathOne.intermediate('Mesh Region Issuing CA');
    const tooDeep = await belowOne.intermediate('Mesh Too Deep CA');
    const issue = (ca: TestCa) => ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    await writeFile(bundle, `${root.cert}${otherRoot.cert}${strict.cert}`);
    await anchored.sluice.reload(anchored.config);
    // Within the constraints: a leaf the pathLen 0 root issued itself, a CA under pathLen 1 issuing the leaf.
    await served(anchored, `${BY};Chain="${envoyEncodedChain(await issue(strict))}"`, 'a leaf of the pathLen 0 root');
    await served(anchored, `${BY};Chain="${envoyEncodedChain(await issue(belowOne), belowOne, pathOne)}"`, 'one CA under pathLen 1');
    await served(anchored, `${BY};Chain="${envoyEncodedChain(await issue(pathZero), pathZero)}"`, 'a leaf of a pathLen 0 CA');
    for (const [what, chain] of [
      ['an intermediate under a pathLen 0 root', envoyEncodedChain(await issue(underStrict), underStrict)],
      ['an intermediate under a pathLen 0 root, the root forwarded', envoyEncodedChain(await issue(underStrict), underStrict, strict)],
      ['an intermediate under a pathLen 0 intermediate', envoyEncodedChain(await issue(belowZero), belowZero, pathZero, root)],
      ['two intermediates under a pathLen 1 one', envoyEncodedChain(await issue(tooDeep), tooDeep, belowOne, pathOne)],
    ] as const) {
      await refused(anchored, `${BY};Chain="${chain}"`, what, /path length|pathLen/);
    }
  });

  test('reads the file again at a config reload: a root added is trusted, one removed no longer', async () => {
    const newRoot = await makeCa('Mesh Root CA 2027');
    const newIssuing = await newRoot.intermediate('Mesh Issuing CA 2027');
    const newChain = `${BY};Chain="${envoyEncodedChain(await newIssuing.issue({ subject: 'CN=checkout', spiffe: CHECKOUT_ID }), newIssuing)}"`;
    const oldChain = `${BY};Chain="${envoyEncodedChain(leaf, issuing)}"`;
    await refused(anchored, newChain, 'under a root not yet in the file', /forwardedCaFile/);
    await served(anchored, oldChain, 'under a root in the file');
    await writeFile(bundle, newRoot.cert);
    await anchored.sluice.reload(anchored.config);
    await served(anchored, newChain, 'under the root added');
    await refused(anchored, oldChain, 'under the root removed', /forwardedCaFile/);
    // A file that no longer reads keeps the roots read before (the reload is logged as refused for it).
    await writeFile(bundle, 'not a certificate');
    await anchored.sluice.reload(anchored.config);
    await served(anchored, newChain, 'after a reload of a broken file');
  });
});

describe('identity.forwardedCaFile in sluice.yaml', () => {
  const base = { providers: {}, models: [] };

  test('is taken with trusted proxies, and refused without them (there would be no forwarded certificate to check)', () => {
    const config = validateConfig(
      { ...base, identity: { trustedProxies: ['127.0.0.6/32'], forwardedCaFile: '/etc/sluice/mesh-roots.pem' } },
      'test',
    );
    assert.equal(config.identity.forwardedCaFile, '/etc/sluice/mesh-roots.pem');
    assert.throws(() => validateConfig({ ...base, identity: { forwardedCaFile: '/etc/sluice/mesh-roots.pem' } }, 'test'), /trustedProxies/);
  });

  test('fails the start when the file does not read or holds no CA certificate', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'sluice-xfcc-anchor-start-'));
    try {
      const leafOnly = join(folder, 'leaf.pem');
      const ca = await makeCa('Some CA');
      await writeFile(leafOnly, (await ca.issue({ subject: 'CN=not-a-root' })).cert);
      const empty = join(folder, 'empty.pem');
      await writeFile(empty, '# nothing here\n');
      for (const [file, reason] of [
        [join(folder, 'missing.pem'), /forwardedCaFile.*(not|cannot) (be )?read/],
        [empty, /forwardedCaFile.*no PEM certificate/],
        [leafOnly, /forwardedCaFile.*not a CA/],
      ] as const) {
        await assert.rejects(
          startTestSluice({
            providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-never-called' } },
            models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
            identity: { trustedProxies: ['127.0.0.1/32'], forwardedCaFile: file },
          }),
          reason,
        );
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
