/**
 * DNS names a PEM certificate is valid for: the subjectAltName dNSName entries (RFC 5280 §4.2.1.6).
 * A minimal DER walk instead of @peculiar/x509: check rules load with every CLI command, and the
 * x509 stack costs start-up time (it is loaded only by the commands that create certificates).
 */

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

function readTlv(b: Uint8Array, at: number): Tlv | undefined {
  if (at + 2 > b.length) return undefined;
  const tag = b[at]!;
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > b.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  const end = start + len;
  return end <= b.length ? { tag, start, end } : undefined;
}

function children(b: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = t.start; at < t.end;) {
    const c = readTlv(b, at);
    if (!c) break;
    out.push(c);
    at = c.end;
  }
  return out;
}

// OID 2.5.29.17 (subjectAltName), DER-encoded content bytes.
const SAN_OID = [0x55, 0x1d, 0x11];

/** dNSName entries of the first certificate in `pem`; undefined when it cannot be read as a certificate. */
export function certificateDnsNames(pem: string): string[] | undefined {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) return undefined;
  const der = new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  const cert = readTlv(der, 0);
  const tbs = cert && children(der, cert)[0];
  if (!tbs) return undefined;
  // extensions: [3] EXPLICIT in TBSCertificate, a SEQUENCE of Extension { extnID, critical?, extnValue OCTET STRING }.
  const exts = children(der, tbs).find((t) => t.tag === 0xa3);
  if (!exts) return [];
  const seq = children(der, exts)[0];
  if (!seq) return [];
  for (const ext of children(der, seq)) {
    const parts = children(der, ext);
    const oid = parts[0];
    if (!oid || oid.tag !== 0x06 || oid.end - oid.start !== 3 || SAN_OID.some((v, i) => der[oid.start + i] !== v)) continue;
    const value = parts[parts.length - 1];
    const names = value && readTlv(der, value.start);
    if (!names) return [];
    // GeneralName dNSName is [2] IMPLICIT IA5String.
    return children(der, names)
      .filter((g) => g.tag === 0x82)
      .map((g) => Buffer.from(der.subarray(g.start, g.end)).toString('latin1').toLowerCase());
  }
  return [];
}

/** Whether a certificate name covers `host` (RFC 6125 §6.4.3: a wildcard stands for exactly one leftmost label). */
export function nameCovers(name: string, host: string): boolean {
  const n = name.toLowerCase();
  const h = host.toLowerCase();
  if (!n.startsWith('*.')) return n === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === n.slice(2);
}
