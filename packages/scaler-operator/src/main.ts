#!/usr/bin/env node
// Entry point of the scaler-operator: `node packages/scaler-operator/src/main.ts --help` lists the flags.
import { runOperator } from '@kube-iaas/core/runtime';
import { ScalerOperator } from './operator.ts';

await runOperator(() => new ScalerOperator());
