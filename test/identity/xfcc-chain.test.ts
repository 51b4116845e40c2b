// A trusted proxy's XFCC Chain= (Envoy's set_current_client_cert_details chain: the client's certificates, leaf first) is
// believed only when it chains: each certificate after the leaf must be the issuer of the one before it (its name and
// key identifier, its signature on it) and a CA's (cA with keyCertSign). A chain whose intermediate is another CA's, an
// impostor under the real one's name, or a leaf's certificate is refused with 401, as an unverifiable client
// certificate is on a direct mTLS connection. Real certificates made in the test, calls over HTTP from the proxy's address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyUsage, makeCa, type Issued, type TestCa } from '../support/certificates.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { envoyEncodedChain, forwardedChat, startMeshSluice } from '../support/xfcc.js';
import { KEYS, ledgerRows, type TestSluice } from '../support/sluice.js';

const CHECKOUT_ID = 'spiffe://acme.mil/ns/payments/sa/checkout';
const BY = 'By=spiffe://acme.mil/ns/ai/sa/sluice';

describe('XFCC Chain= is checked as a chain, not only for dates', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let root: TestCa;
  let issuing: TestCa;
  let leaf: Issued;

  const forwardedCall = (element: string, key?: string): Promise<Response> => forwardedChat(sluice.baseURL, element, key);

  before(async () => {
    root = await makeCa('Mesh Root CA');
    issuing = await root.intermediate('Mesh Issuing CA');
    leaf = await issuing.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello through the mesh')));
    sluice = await startMeshSluice(mock.url, CHECKOUT_ID);
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('takes a chain whose intermediate issued the leaf, with or without the root after it', async () => {
    for (const chain of [envoyEncodedChain(leaf, issuing), envoyEncodedChain(leaf, issuing, root)]) {
      for (const element of [`${BY};Chain="${chain}";URI=${CHECKOUT_ID}`, `${BY};Cert="${envoyEncodedChain(leaf)}";Chain="${chain}"`]) {
        const response = await forwardedCall(element);
        assert.equal(response.status, 200, await response.clone().text());
        await response.arrayBuffer();
        const row = (await ledgerRows(sluice)).at(-1)!;
        assert.equal(row.consumer, 'checkout-service');
        assert.equal(row.identity, `xfcc:${CHECKOUT_ID}`);
      }
    }
  });

  test('refuses with 401 a chain whose intermediate did not issue the leaf, or is not a CA', async () => {
    const strangerRoot = await makeCa('Stranger Root CA');
    const stranger = await strangerRoot.intermediate('Stranger Issuing CA');
    // Same name and the same key identifier as the issuing CA, its own key: only the signature tells it apart.
    const impostor = await strangerRoot.intermediate('Mesh Issuing CA', { subjectKeyIdentifier: issuing.subjectKeyIdentifier });
    // Certificates that signed a leaf with their key without being a CA's: cA false, or cA without keyCertSign.
    const notCa = await root.intermediate('Checkout Workload', { ca: false, keyUsages: KeyUsage.digitalSignature | KeyUsage.keyCertSign });
    const noCertSign = await root.intermediate('Signing Workload', { keyUsages: KeyUsage.digitalSignature });
    const underNotCa = await notCa.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    const underNoCertSign = await noCertSign.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    for (const [what, certificates, reason] of [
      ["another CA's intermediate (the names do not chain)", [leaf, stranger], /not the issuer/],
      ["an impostor under the issuing CA's name and key identifier", [leaf, impostor, strangerRoot], /signature/],
      ['the right intermediate, then a root that did not issue it', [leaf, issuing, strangerRoot], /not the issuer/],
      ['an intermediate that is not a CA (cA false)', [underNotCa, notCa, root], /not a CA/],
      ['an intermediate without keyCertSign', [underNoCertSign, noCertSign, root], /not the issuer|not a CA/],
    ] as const) {
      const chain = envoyEncodedChain(...certificates);
      for (const element of [
        `${BY};Chain="${chain}";URI=${CHECKOUT_ID}`,
        `${BY};Cert="${envoyEncodedChain(certificates[0])}";Chain="${chain}"`,
      ]) {
        const response = await forwardedCall(element, KEYS.search);
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(response.status, 401, `${what}: ${JSON.stringify(body)}`);
        assert.equal(body.error.code, 'invalid_api_key', what);
        assert.match(body.error.message, /Chain=/, what);
        assert.match(body.error.message, reason, what);
        assert.doesNotMatch(body.error.message, /BEGIN CERTIFICATE/, what);
      }
    }
  });
});
