// Entry point: `node packages/volume-operator/src/main.ts [flags]` (see --help). `npm start` runs it
// with --metrics-bind-address=127.0.0.1:<port>.
import { runOperator } from '@kube-iaas/core/runtime';
import { VolumeOperator } from './operator.ts';

await runOperator(() => new VolumeOperator());
