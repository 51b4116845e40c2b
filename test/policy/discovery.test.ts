// Reconciliation's pure parts: one form per IP address, CIDRs parsed and matched with net.BlockList (IPv4 and IPv6),
// identity by the strongest hint, bounded hint lists, key fingerprints that cannot carry a whole key.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyHints,
  identityOf,
  keyFingerprint,
  KEY_FINGERPRINT_PATTERN,
  matchProblems,
  MAX_HINTS,
  mergeHints,
  normalizeIp,
  normalizeSource,
  parseCidr,
  RuleMatcher,
  sourceProblems,
} from '../../src/policy/discovery.js';

describe('discovery hints and rules', () => {
  test('IP addresses have one form: IPv4-mapped IPv6 as IPv4, IPv6 compressed and lower-case; anything else is refused', () => {
    assert.equal(normalizeIp('10.1.2.3'), '10.1.2.3');
    assert.equal(normalizeIp('::FFFF:10.1.2.3'), '10.1.2.3');
    assert.equal(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    for (const bad of ['10.1.2.300', 'example.com', '', 'fe80::1%eth0', '10.1.2.3/8']) assert.equal(normalizeIp(bad), null, bad);
  });

  test('CIDRs: IPv4 and IPv6 networks, a bare address as its /32 or /128, prefixes within the family', () => {
    assert.deepEqual(parseCidr('10.1.0.0/16'), { text: '10.1.0.0/16', address: '10.1.0.0', prefix: 16, family: 'ipv4' });
    assert.equal(parseCidr('2001:DB8::/32')?.text, '2001:db8::/32');
    assert.equal(parseCidr('10.9.9.9')?.text, '10.9.9.9/32');
    assert.equal(parseCidr('::1')?.text, '::1/128');
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/-1', '10.0.0.0/16/1', 'net/8', '10.0.0.0/ 8'])
      assert.equal(parseCidr(bad), null, bad);
  });

  test('a rule matches a source when every condition holds, a discovered consumer when one of its hints meets each', () => {
    const subnet = new RuleMatcher({ cidr: '10.1.0.0/16' });
    assert.equal(subnet.matchesSource({ ip: '10.1.200.7' }), true);
    assert.equal(subnet.matchesSource({ ip: '10.2.0.1' }), false);
    assert.equal(subnet.matchesSource({ keyFingerprint: 'sha256:0011223344556677' }), false, 'no address, no match');
    assert.equal(subnet.matchesSource({ ip: '2001:db8::1' }), false, 'another family never matches');
    const v6 = new RuleMatcher({ cidr: '2001:db8:10::/48' });
    assert.equal(v6.matchesSource({ ip: '2001:db8:10:ffff::1' }), true);
    assert.equal(v6.matchesSource({ ip: '2001:db8:11::1' }), false);
    const both = new RuleMatcher({ cidr: '10.1.0.0/16', userAgent: 'python-requests/' });
    assert.equal(both.matchesSource({ ip: '10.1.0.1', userAgent: 'python-requests/2.31' }), true);
    assert.equal(both.matchesSource({ ip: '10.1.0.1', userAgent: 'curl/8' }), false);
    const hints = { ...emptyHints(), ips: ['10.9.0.1', '10.1.3.3'], userAgents: ['curl/8', 'python-requests/2.0'] };
    assert.equal(both.matchesHints(hints), true);
    assert.equal(new RuleMatcher({ keyFingerprint: 'sha256:0011223344556677' }).matchesHints(hints), false);
    assert.throws(() => new RuleMatcher({ cidr: 'nonsense' }));
  });

  test('identity is the strongest hint present; hints merge distinct and bounded', () => {
    assert.deepEqual(identityOf({ ip: '10.0.0.1', keyFingerprint: 'sha256:0011223344556677', userAgent: 'a' }), {
      kind: 'keyFingerprint',
      value: 'sha256:0011223344556677',
      host: null,
    });
    assert.deepEqual(identityOf({ ip: '10.0.0.1', userAgent: 'a', host: 'h' }), { kind: 'ip', value: '10.0.0.1', host: null });
    assert.deepEqual(identityOf({ userAgent: 'a', host: 'h' }), { kind: 'userAgent', value: 'a', host: 'h' });
    assert.deepEqual(
      normalizeSource({ ip: '::ffff:10.0.0.1', keyFingerprint: 'SHA256:ABCDEF0123456789', userAgent: ' a ', host: 'API.X' }),
      { ip: '10.0.0.1', keyFingerprint: 'sha256:abcdef0123456789', userAgent: 'a', host: 'api.x' },
    );
    const hints = emptyHints();
    assert.equal(mergeHints(hints, { ip: '10.0.0.1' }, 'o'), true);
    assert.equal(mergeHints(hints, { ip: '10.0.0.1' }, 'o'), false, 'nothing new');
    for (let i = 0; i < 50; i++) mergeHints(hints, { ip: `10.0.1.${i}` }, 'o');
    assert.equal(hints.ips.length, MAX_HINTS);
    assert.equal(hints.ips[0], '10.0.0.1', 'the first seen are kept');
  });

  test('a key fingerprint is a short hash prefix: the helper makes one, a whole key never passes', () => {
    const fingerprint = keyFingerprint('sk-proj-secret-value');
    assert.match(fingerprint, /^sha256:[0-9a-f]{16}$/);
    assert.ok(KEY_FINGERPRINT_PATTERN.test(fingerprint));
    assert.ok(!fingerprint.includes('secret'));
    for (const key of ['sk-proj-abcdefghijklmnopqrstuvwxyz', `azure:${'0123456789abcdef'.repeat(2)}`, 'sk-ant-api03-xyz']) {
      assert.deepEqual(
        sourceProblems({ keyFingerprint: key }).map((p) => p.field),
        ['keyFingerprint'],
        key,
      );
      assert.deepEqual(
        matchProblems({ keyFingerprint: key }).map((p) => p.field),
        ['keyFingerprint'],
        key,
      );
    }
    assert.deepEqual(
      sourceProblems({ host: 'api.openai.com' }).map((p) => p.field),
      ['(source)'],
    );
    assert.deepEqual(
      matchProblems({}).map((p) => p.field),
      ['(match)'],
    );
  });
});
