import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigInput {
  server: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  user: string;
}

/** A kubeconfig with the certificates embedded, so it stays valid wherever it is copied. */
export function writeKubeconfig(path: string, k: KubeconfigInput): void {
  const b64 = (f: string) => readFileSync(f).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-iaas-testbed', cluster: { server: k.server, 'certificate-authority-data': b64(k.caFile) } }],
    users: [{ name: k.user, user: { 'client-certificate-data': b64(k.certFile), 'client-key-data': b64(k.keyFile) } }],
    contexts: [{ name: 'kube-iaas-testbed', context: { cluster: 'kube-iaas-testbed', user: k.user } }],
    'current-context': 'kube-iaas-testbed',
  };
  writeFileSync(path, stringify(doc), { mode: 0o600 });
}
