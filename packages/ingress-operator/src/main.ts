// Entry point: `node packages/ingress-operator/src/main.ts [flags]` (npm start runs it with
// --metrics-bind-address=127.0.0.1:<port>). Flags and environment: see README.md or --help.
import { runOperator } from '@kube-iaas/core/runtime';
import { IngressOperator } from './operator.ts';

await runOperator(() => new IngressOperator());
