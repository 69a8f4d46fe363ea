// @peculiar/x509 2.x resolves its ASN.1 classes through tsyringe, which needs the Reflect
// metadata polyfill loaded before it.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { InputError } from '../util/errors.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const RSA_SHA256 = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
const DAY_MS = 86_400_000;
/** Validity of the root CA; a leaf may not outlive its issuer. */
export const ROOT_DAYS = 3650;
/** RFC 5280 ub-common-name. */
const MAX_CN = 64;

export interface GeneratedCerts {
  rootCertPem: string;
  rootKeyPem: string;
  wildcardCertPem: string;
  wildcardKeyPem: string;
}

export interface CertOptions {
  /** Organisation in both subjects (the docs use "Example Inc."). */
  organization?: string;
  /** Validity of the wildcard certificate in days (the root CA gets 10 years). */
  days?: number;
  now?: Date;
}

/** Random positive 128-bit serial number, hex (RFC 5280 §4.1.2.2: positive, ≤ 20 octets). */
function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** PEM text ends with a newline, as files do: what is rendered equals what is read back. */
const pemLine = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/**
 * A root CA and a wildcard server certificate for `*.<domain>` signed by it (docs §1.3), RSA 2048
 * with SHA-256, subjectAltName `*.<domain>` and `<domain>`. Pure Node (WebCrypto), no openssl.
 */
export async function generateWildcardCerts(domain: string, opts: CertOptions = {}): Promise<GeneratedCerts> {
  const org = opts.organization ?? 'serverless-mesh';
  const days = opts.days ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > ROOT_DAYS) {
    throw new InputError(`--days ${days}: expected 1 to ${ROOT_DAYS} (the root CA's validity; a certificate cannot outlive its issuer)`);
  }
  if (`*.${domain}`.length > MAX_CN) {
    throw new InputError(
      `--domain ${domain}: ${domain.length} characters; the certificate's CN "*.<domain>" allows at most ${MAX_CN - 2} (X.509: ${MAX_CN})`,
    );
  }
  if (/[,=+<>#;"\\\n]/.test(org) || org.length > MAX_CN || org.length === 0) {
    throw new InputError(`--organization: expected 1 to ${MAX_CN} characters without , = + < > # ; " \\`);
  }
  const rootCn = `${domain} root CA`.length <= MAX_CN ? `${domain} root CA` : 'serverless-mesh root CA';
  const notBefore = new Date((opts.now ?? new Date()).getTime() - 5 * 60_000); // tolerate clock skew
  const caKeys = await webcrypto.subtle.generateKey(RSA_SHA256, true, ['sign', 'verify']);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${rootCn}, O=${org}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + ROOT_DAYS * DAY_MS),
    signingAlgorithm: RSA_SHA256,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = await webcrypto.subtle.generateKey(RSA_SHA256, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=*.${domain}, O=${org}`,
    issuer: root.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * DAY_MS),
    signingAlgorithm: RSA_SHA256,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: `*.${domain}` },
        { type: 'dns', value: domain },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root),
    ],
  });
  return {
    rootCertPem: pemLine(root.toString('pem')),
    rootKeyPem: pemLine(await privateKeyPem(caKeys.privateKey)),
    wildcardCertPem: pemLine(leaf.toString('pem')),
    wildcardKeyPem: pemLine(await privateKeyPem(keys.privateKey)),
  };
}
