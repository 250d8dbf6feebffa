// The permissions contract (core's permissionsSuite) held for this operator.
import { offlineOperatorOptions } from '@kube-iaas/core';
import { permissionsSuite } from '@kube-iaas/core/permissions/suite';
import { ScalerOperator } from '../../src/operator.ts';
import { permissions } from '../../src/permissions.ts';

permissionsSuite({
  make: () => new ScalerOperator(offlineOperatorOptions()),
  init: (op) => op['init'](),
  permissions,
  kind: 'NodeGroup',
  generatedDir: new URL('../../generated/', import.meta.url),
});
