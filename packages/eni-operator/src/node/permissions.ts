import type { OperatorPermissions } from '@kube-iaas/core';

/**
 * The node agent (DaemonSet) as itself: it only reads its own node's pods and EniPool, and calls no AWS
 * API. `npm run generate` writes `generated/node-rbac.yaml` from this.
 */
export const permissions: OperatorPermissions = {
  name: 'eni-operator-node',
  rules: [
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'], why: 'the pods of its node (fieldSelector spec.nodeName) and their address annotations' },
    { apiGroups: ['network.kube-iaas.dev'], resources: ['enipools'], verbs: ['list', 'watch'], why: 'its node\'s EniPool (fieldSelector metadata.name): ENIs, route tables, SNAT settings' },
  ],
  installsCrds: [],
  iam: [],
};
