import 'reflect-metadata';
import { generateKeyPairSync, type webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const YEAR = 365 * 24 * 3600 * 1000;

export interface Pki {
  dir: string;
  caCert: string;
  apiserverCert: string;
  apiserverKey: string;
  saKey: string;
  saPub: string;
  clients: Record<ClientName, { cert: string; key: string }>;
}

export type ClientName = 'admin' | 'controller-manager' | 'scheduler' | 'node-simulator';

/** Client identities: CN is the user, O the groups, as the apiserver's x509 authenticator reads them. */
const CLIENT_SUBJECTS: Record<ClientName, string> = {
  admin: 'CN=kube-iaas-admin, O=system:masters',
  'controller-manager': 'CN=system:kube-controller-manager',
  scheduler: 'CN=system:kube-scheduler',
  // The simulator stands in for every kubelet at once, so it acts as an admin, not a node identity.
  'node-simulator': 'CN=kube-iaas-node-simulator, O=system:masters',
};

async function pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

function paths(dir: string): Pki {
  const clients = Object.fromEntries(
    (Object.keys(CLIENT_SUBJECTS) as ClientName[]).map((n) => [n, { cert: join(dir, `${n}.crt`), key: join(dir, `${n}.key`) }]),
  ) as Pki['clients'];
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
    clients,
  };
}

/** A fresh CA, serving cert, client certs and ServiceAccount signing key for one testbed. */
export async function generatePki(dir: string): Promise<Pki> {
  const p = paths(dir);
  if (existsSync(p.caCert)) return p;
  mkdirSync(dir, { recursive: true });
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = new Date(Date.now() + YEAR);
  const caKeys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=kube-iaas-testbed-ca',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  writeFileSync(p.caCert, ca.toString('pem'));
  let serial = 2;
  const issue = async (subject: string, usage: 'server' | 'client', sans?: x509.JsonGeneralNames) => {
    const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    ];
    if (sans) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: (serial++).toString(16).padStart(2, '0'),
      subject,
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingKey: caKeys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: alg,
      extensions,
    });
    return { cert: cert.toString('pem'), key: await pem(keys.privateKey) };
  };
  const server = await issue('CN=kube-apiserver', 'server', [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '10.0.0.1' },
    { type: 'dns', value: 'localhost' },
    { type: 'dns', value: 'kubernetes' },
    { type: 'dns', value: 'kubernetes.default' },
    { type: 'dns', value: 'kubernetes.default.svc' },
    { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
  ]);
  writeFileSync(p.apiserverCert, server.cert);
  writeFileSync(p.apiserverKey, server.key, { mode: 0o600 });
  for (const [name, subject] of Object.entries(CLIENT_SUBJECTS) as [ClientName, string][]) {
    const c = await issue(subject, 'client');
    writeFileSync(p.clients[name].cert, c.cert);
    writeFileSync(p.clients[name].key, c.key, { mode: 0o600 });
  }
  // ServiceAccount tokens are signed with RSA, the algorithm every token consumer accepts.
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(p.saKey, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(p.saPub, sa.publicKey.export({ type: 'spki', format: 'pem' }));
  return p;
}
