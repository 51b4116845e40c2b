// POST /api/identity-rules refuses, with a 400 naming the field, a rule whose value can never match what a caller
// presents: a SPIFFE id (exact, prefix or pattern) that breaks the SPIFFE ID standard, a subject not in RFC 4514 form.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-identity-rules-test-token-0123';

describe('identity rules that can never match are refused', () => {
  let sluice: TestSluice;
  let admin: AdminClient;

  before(async () => {
    sluice = await startTestSluice({ ...OFFLINE_CATALOG, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP } });
    admin = adminClient(sluice, BOOTSTRAP);
  });

  after(async () => {
    await sluice.stop();
  });

  const rule = (field: string, match: string, value: string) => ({ field, match, value, consumer: 'checkout-service' });

  async function refused(field: string, match: string, value: string, reason: RegExp): Promise<void> {
    const answer = await admin('POST', '/api/identity-rules', rule(field, match, value));
    const shown = `${field} ${match} ${value}: ${JSON.stringify(answer.body)}`;
    assert.equal(answer.status, 400, shown);
    assert.equal(answer.body.error.code, 'invalid_request', shown);
    assert.deepEqual(
      answer.body.error.issues.map((issue: { path: string }) => issue.path),
      ['value'],
      shown,
    );
    assert.match(answer.body.error.issues[0].message, reason, shown);
  }

  async function taken(field: string, match: string, value: string): Promise<void> {
    const answer = await admin('POST', '/api/identity-rules', rule(field, match, value));
    assert.equal(answer.status, 201, `${field} ${match} ${value}: ${JSON.stringify(answer.body)}`);
  }

  test('an exact SPIFFE id that breaks the SPIFFE ID standard, naming what is wrong', async () => {
    for (const [value, reason] of [
      ['spiffe://acme.mil/ns/payments//sa/checkout', /empty segment/],
      ['spiffe://acme.mil/ns/payments/sa/checkout/', /empty segment/],
      ['spiffe://Acme.mil/ns/payments/sa/checkout', /lowercase/],
      ['spiffe://acme.mil:8443/ns/payments/sa/checkout', /port/],
      ['spiffe://acme.mil', /no path/],
      ['spiffe://acme.mil/ns/payments/../sa/checkout', /"\.\." segment/],
      ['spiffe://acme.mil/ns/pay%20ments/sa/checkout', /percent/],
      ['spiffe://acme.mil/ns/payments/sa/check out', /character/],
    ] as const) {
      await refused('spiffe', 'exact', value, reason);
    }
    await taken('spiffe', 'exact', 'spiffe://acme.mil/ns/payments/sa/checkout');
  });

  test('a SPIFFE prefix no valid id starts with, while every prefix some id does start with is taken', async () => {
    for (const value of [
      'spiffe://Acme.mil/',
      'spiffe://acme.mil:8443/',
      'spiffe://acme.mil/ns//',
      'spiffe://acme.mil/ns/pay ments/',
      'spiffe://acme.mil/ns/payments?',
      // Ends with a letter, so it stops at a boundary: it would take only "spiffe" itself or "spiffe/...".
      'spiffe',
    ]) {
      await refused('spiffe', 'prefix', value, /SPIFFE/);
    }
    for (const value of [
      'spiffe:',
      'spiffe://',
      'spiffe://acme.mil',
      'spiffe://acme.',
      'spiffe://acme.mil/ns/payments/',
      'spiffe://acme.mil/ns/team-a',
      'spiffe://acme.mil/ns/team-',
    ]) {
      await taken('spiffe', 'prefix', value);
    }
  });

  test('a SPIFFE pattern whose literal text no valid id can have, while patterns some id matches are taken', async () => {
    for (const value of ['spiffe://acme.mil/ns/*/sa//checkout', 'spiffe://ACME.mil/ns/*/sa/checkout', 'spiffe://acme.mil/**/']) {
      await refused('spiffe', 'pattern', value, /SPIFFE/);
    }
    for (const value of ['spiffe://acme.mil/ns/*/sa/checkout', 'spiffe://acme.mil/**', 'spiffe://**', 'spiffe://*/ns/payments/**']) {
      await taken('spiffe', 'pattern', value);
    }
  });

  test('a subject not in RFC 4514 form (as openssl prints it by default, or OpenSSL one-line form), while RFC 4514 subjects are taken', async () => {
    for (const value of [
      'CN = checkout, O = Acme',
      'CN=checkout, O=Acme',
      '/C=US/O=Acme/CN=checkout',
      'checkout',
      'CN=checkout,O=Acme,',
      'CN=check"out',
    ]) {
      await refused('subject', 'exact', value, /RFC 4514/);
    }
    for (const value of [
      'CN=checkout,O=Acme',
      'CN=Smith\\, J.,O=Acme',
      'CN=a+UID=b,O=Acme',
      '2.5.4.3=checkout',
      'CN=#0403616263',
      'CN=Zoë,O=Acme',
    ]) {
      await taken('subject', 'exact', value);
    }
    // Subjects reach rules with letters beyond ASCII as letters (an XFCC Subject's \\C3\\AB is read as ë).
    await refused('subject', 'exact', 'CN=Zo\\C3\\AB,O=Acme', /letters beyond ASCII/);
    for (const value of ['CN', 'CN = reports', 'CN=a\\2']) await refused('subject', 'prefix', value, /RFC 4514/);
    for (const value of ['CN=reports', 'CN=', 'CN=reports,O=', 'CN=reports-', 'CN=reports,']) await taken('subject', 'prefix', value);
  });

  test('JWT values are taken as they are: a sub, team or group claim can be any string', async () => {
    for (const field of ['sub', 'team', 'group']) {
      await taken(field, 'exact', 'system:serviceaccount:payments:checkout');
      await taken(field, 'prefix', '/ai/team-a');
    }
  });
});
