import { reconciliationDeps, sweepAndRecord } from '../composition/reconciliation';
import { defineHandler } from '../define-handler-core';
import { spec } from './reconcile-sweep.spec';
import { secretsManagerFetcher } from '../config/secrets-manager';

/** Scheduled (EventBridge in AWS, a timer under `npm start`): reconcile cards whose operations are overdue. */
export const handler = defineHandler(spec, reconciliationDeps, sweepAndRecord, { fetchSecret: secretsManagerFetcher() });
