import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateWildcardCerts } from '../../src/certs/generate.ts';
import { ROOT } from '../helpers/shared.ts';

const DOMAIN = 'apps.openshift.example.com';

describe('wildcard certificate generation', async () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const certs = await generateWildcardCerts(DOMAIN, { organization: 'Example Inc.', days: 365, now });
  const root = new X509Certificate(certs.rootCertPem);
  const leaf = new X509Certificate(certs.wildcardCertPem);

  it('the wildcard certificate is signed by the root CA, which is self-signed', () => {
    assert.ok(leaf.checkIssued(root));
    assert.ok(leaf.verify(root.publicKey));
    assert.ok(root.verify(root.publicKey));
    assert.ok(root.ca);
    assert.ok(!leaf.ca);
  });

  it('SAN covers *.domain and the domain; hostnames match', () => {
    assert.equal(leaf.subjectAltName, `DNS:*.${DOMAIN}, DNS:${DOMAIN}`);
    assert.equal(leaf.checkHost(`hello-default.${DOMAIN}`), `*.${DOMAIN}`);
    assert.equal(leaf.checkHost(`a.b.${DOMAIN}`), undefined); // a wildcard covers one label only
    assert.match(leaf.subject, /CN=\*\.apps\.openshift\.example\.com/);
    assert.match(leaf.subject, /O=Example Inc\./);
  });

  it('RSA 2048 keys, SHA-256 signatures, the keys belong to the certificates', () => {
    for (const [certPem, keyPem] of [
      [certs.rootCertPem, certs.rootKeyPem],
      [certs.wildcardCertPem, certs.wildcardKeyPem],
    ] as const) {
      const cert = new X509Certificate(certPem);
      const key = createPrivateKey(keyPem);
      assert.equal(key.asymmetricKeyType, 'rsa');
      assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
      assert.ok(cert.checkPrivateKey(key));
      assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
    }
    // node:crypto has no signature-algorithm accessor: read the DER AlgorithmIdentifier OID 1.2.840.113549.1.1.11.
    const sha256WithRSA = Buffer.from('06092a864886f70d01010b', 'hex');
    assert.ok(leaf.raw.includes(sha256WithRSA));
    assert.ok(root.raw.includes(sha256WithRSA));
  });

  it('validity: wildcard for the requested days, root for ten years, both valid now', () => {
    const days = (c: X509Certificate) => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / 86_400_000;
    assert.equal(Math.round(days(leaf)), 365);
    assert.equal(Math.round(days(root)), 3650);
    assert.ok(Date.parse(leaf.validFrom) <= now.getTime());
  });

  it('serial numbers are unique and positive', async () => {
    const other = await generateWildcardCerts(DOMAIN);
    const serial = new X509Certificate(other.wildcardCertPem).serialNumber;
    assert.notEqual(serial, leaf.serialNumber);
    assert.ok(parseInt(leaf.serialNumber.slice(0, 2), 16) < 0x80);
  });
});

describe('serverless-mesh certs', () => {
  it('writes four files, keys 0600, and prints no key material', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-certs-'));
    const res = spawnSync(process.execPath, [join(ROOT, 'bin/serverless-mesh.js'), 'certs', '--domain', DOMAIN, '--output-dir', dir], {
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout, '');
    assert.doesNotMatch(res.stderr, /PRIVATE KEY|BEGIN/);
    for (const [name, mode] of [
      ['root.crt', 0o644],
      ['root.key', 0o600],
      ['wildcard.crt', 0o644],
      ['wildcard.key', 0o600],
    ] as const) {
      assert.equal(statSync(join(dir, name)).mode & 0o777, mode, name);
    }
    const leaf = new X509Certificate(readFileSync(join(dir, 'wildcard.crt')));
    assert.ok(leaf.checkIssued(new X509Certificate(readFileSync(join(dir, 'root.crt')))));
  });

  it('rejects an invalid domain with exit 2', () => {
    const res = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/serverless-mesh.js'), 'certs', '--domain', 'Not A Domain', '--output-dir', '/tmp/x'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(res.status, 2);
    assert.equal(
      res.stderr.trim(),
      '--domain: invalid domain "Not A Domain": expected lowercase DNS labels of at most 63 characters separated by dots',
    );
  });
});
