// The permissions contract (core's permissionsSuite) held for this operator.
import { offlineOperatorOptions } from '@kube-iaas/core';
import { permissionsSuite } from '@kube-iaas/core/permissions/suite';
import { IngressOperator } from '../../src/operator.ts';
import { permissions } from '../../src/permissions.ts';

permissionsSuite({
  make: () => new IngressOperator(offlineOperatorOptions()),
  init: (op) => op['init'](),
  permissions,
  kind: 'ApplicationLoadBalancer',
  generatedDir: new URL('../../generated/', import.meta.url),
});
