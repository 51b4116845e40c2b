// identity.forwardedCaFile: when Sluice checks a forwarded chain against the mesh's roots it also applies the name
// constraints (RFC 5280 section 4.2.1.10) of every CA on the path, the root's included, to the names of each certificate
// below it: the URI SANs' hosts (a SPIFFE id's trust domain), DNS and email SANs, IP SANs and the subject. A name outside
// a permitted subtree, or inside an excluded one, is refused with 401 naming the constraint; so is a certificate on the
// path with a critical extension Sluice does not process (RFC 5280 sections 6.1.3 and 6.1.4), and a leaf whose extended
// key usage does not allow clientAuth. Real certificates made in the test, calls over HTTP from the trusted proxy's address.
import 'reflect-metadata'; // before @peculiar/x509 (its README)
import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { makeCa, nameConstraints, type Issued, type TestCa } from '../support/certificates.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { assertForwardedRefused, assertForwardedServed, BY, CHECKOUT_ID, envoyEncodedChain, startMeshSluice } from '../support/xfcc.js';
import type { TestSluice } from '../support/sluice.js';

const OTHER_ID = 'spiffe://other.example/ns/payments/sa/checkout';

describe('XFCC chains anchored to identity.forwardedCaFile: name constraints and critical extensions', () => {
  let mock: MockProvider;
  let folder: string;
  let bundle: string;
  let sluice: TestSluice;
  let root: TestCa;

  const served = (element: string, what: string): Promise<void> => assertForwardedServed(sluice, element, CHECKOUT_ID, what);
  const refused = (element: string, what: string, reason: RegExp): Promise<void> => assertForwardedRefused(sluice, element, what, reason);
  const chain = (...certificates: Array<Issued | TestCa>): string => `${BY};Chain="${envoyEncodedChain(...certificates)}"`;
  const issue = (ca: TestCa, spiffe: string, more: Partial<Parameters<TestCa['issue']>[0]> = {}): Promise<Issued> =>
    ca.issue({ subject: 'CN=checkout,O=Acme', spiffe, ...more });

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'sluice-xfcc-name-constraints-'));
    bundle = join(folder, 'mesh-roots.pem');
    root = await makeCa('Mesh Root CA');
    await writeFile(bundle, root.cert);
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello through the mesh')));
    sluice = await startMeshSluice(mock.url, CHECKOUT_ID, { forwardedCaFile: bundle });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
    await rm(folder, { recursive: true, force: true });
  });

  test('an intermediate permitted only the acme.mil trust domain: a leaf of another is refused, one inside it served', async () => {
    const issuing = await root.intermediate('Mesh Issuing CA', {
      extensions: [nameConstraints({ permitted: [{ type: 'url', value: 'acme.mil' }] })],
    });
    await served(chain(await issue(issuing, CHECKOUT_ID), issuing), 'a leaf inside the permitted trust domain');
    await served(chain(await issue(issuing, CHECKOUT_ID), issuing, root), 'the same, the root forwarded');
    const outside = await issue(issuing, OTHER_ID);
    for (const element of [chain(outside, issuing), chain(outside, issuing, root)]) {
      await refused(
        element,
        'a leaf of another trust domain',
        /URI spiffe:\/\/other\.example\S* of certificate 1 .* is outside the name constraints of certificate 2 \(CN=Mesh Issuing CA\), which permit only URI acme\.mil/,
      );
    }
    // A subdomain is not the host the constraint names (a leading period would permit subdomains).
    await refused(chain(await issue(issuing, 'spiffe://x.acme.mil/ns/a/sa/b'), issuing), 'a subdomain', /name constraints/);
  });

  test('an excluded subtree refuses the leaves inside it and takes the others', async () => {
    const issuing = await root.intermediate('Mesh Issuing CA', {
      extensions: [
        nameConstraints({
          excluded: [
            { type: 'url', value: 'other.example' },
            { type: 'url', value: '.other.example' },
          ],
        }),
      ],
    });
    await served(chain(await issue(issuing, CHECKOUT_ID), issuing), 'a leaf outside the excluded trust domain');
    for (const spiffe of [OTHER_ID, 'spiffe://eu.other.example/ns/a/sa/b']) {
      await refused(
        chain(await issue(issuing, spiffe), issuing),
        spiffe,
        /is within the name constraints of certificate 2 \(CN=Mesh Issuing CA\), which exclude URI \.?other\.example/,
      );
    }
  });

  test("a root's name constraints apply to every certificate below it, a lone Cert= it issued included", async () => {
    const constrained = await makeCa('Constrained Root CA', {
      extensions: [nameConstraints({ permitted: [{ type: 'url', value: 'acme.mil' }] })],
    });
    await writeFile(bundle, `${root.cert}${constrained.cert}`);
    await sluice.sluice.reload(sluice.config);
    const issuing = await constrained.intermediate('Constrained Issuing CA');
    const team = await issuing.intermediate('Constrained Team CA');
    await served(chain(await issue(team, CHECKOUT_ID), team, issuing), 'two levels below, inside');
    await served(`${BY};Cert="${envoyEncodedChain(await issue(constrained, CHECKOUT_ID))}"`, 'a lone Cert= inside');
    for (const [what, element] of [
      ['two levels below', chain(await issue(team, OTHER_ID), team, issuing)],
      ['two levels below, the root forwarded', chain(await issue(team, OTHER_ID), team, issuing, constrained)],
      ['a lone Cert= the root issued', `${BY};Cert="${envoyEncodedChain(await issue(constrained, OTHER_ID))}"`],
    ] as const) {
      await refused(
        element,
        what,
        /outside the name constraints of (the root|certificate 4) \(CN=Constrained Root CA\), which permit only URI acme\.mil/,
      );
    }
  });

  test('DNS, email, IP and directory name subtrees apply to the SANs and the subject of the leaf and of CAs below', async () => {
    const issuing = await root.intermediate('Mesh Issuing CA', {
      extensions: [
        nameConstraints({
          permitted: [
            { type: 'dns', value: 'acme.mil' },
            { type: 'email', value: '.acme.mil' },
            { type: 'ip', value: '10.0.0.0/8' },
            { type: 'dn', value: 'O=Acme' },
          ],
          excluded: [{ type: 'dns', value: 'secret.acme.mil' }],
        }),
      ],
    });
    // A directory name subtree matches the leading RDNs in the certificate's (DER) order: O=Acme first.
    const names = (...more: x509.JsonGeneralName[]) => ({ subject: 'O=Acme,CN=checkout', names: more });
    await served(
      chain(
        await issue(
          issuing,
          CHECKOUT_ID,
          names(
            { type: 'dns', value: 'checkout.acme.mil' },
            { type: 'email', value: 'ops@pay.acme.mil' },
            { type: 'ip', value: '10.1.2.3' },
          ),
        ),
        issuing,
      ),
      'names inside every subtree',
    );
    for (const [what, leaf, reason] of [
      ['a DNS name outside', names({ type: 'dns', value: 'checkout.other.example' }), /permit only DNS acme\.mil/],
      ['a DNS name excluded', names({ type: 'dns', value: 'db.secret.acme.mil' }), /exclude DNS secret\.acme\.mil/],
      ['an email outside', names({ type: 'email', value: 'ops@acme.mil' }), /permit only email \.acme\.mil/],
      ['an IP outside', names({ type: 'ip', value: '192.168.1.1' }), /permit only IP 10\.0\.0\.0\/8/],
      ['a subject outside', { subject: 'O=Other,CN=checkout' }, /permit only directory name O=Acme/],
    ] as const) {
      await refused(chain(await issue(issuing, CHECKOUT_ID, leaf), issuing), what, reason);
    }
    // An intermediate below whose own subject is outside O=Acme.
    const below = await issuing.intermediate('Team CA');
    await refused(
      chain(await issue(below, CHECKOUT_ID, names()), below, issuing),
      'a CA subject outside',
      /directory name CN=Team CA of certificate 2 \(CN=Team CA\) is outside the name constraints of certificate 3/,
    );
  });

  test('a critical extension Sluice does not process refuses the chain; the same extension not critical does not', async () => {
    const unknown = (critical: boolean) => new x509.Extension('1.3.6.1.4.1.99999.1', critical, new Uint8Array([0x05, 0x00]));
    const criticalCa = await root.intermediate('Mesh Issuing CA', { extensions: [unknown(true)] });
    const plainCa = await root.intermediate('Mesh Issuing CA', { extensions: [unknown(false)] });
    await served(chain(await issue(plainCa, CHECKOUT_ID, { extensions: [unknown(false)] }), plainCa), 'not critical');
    await refused(
      chain(await issue(criticalCa, CHECKOUT_ID), criticalCa),
      'critical in the intermediate',
      /critical extension 1\.3\.6\.1\.4\.1\.99999\.1/,
    );
    await refused(
      chain(await issue(plainCa, CHECKOUT_ID, { extensions: [unknown(true)] }), plainCa),
      'critical in the leaf',
      /certificate 1 .*critical extension 1\.3\.6\.1\.4\.1\.99999\.1/,
    );
    // The extended key usage is one Sluice processes: a leaf's must allow clientAuth (a server's certificate is not a client's).
    const server = await plainCa.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID, server: true });
    await refused(chain(server, plainCa), 'a server certificate', /certificate 1 .*extended key usage without clientAuth/);
  });
});
