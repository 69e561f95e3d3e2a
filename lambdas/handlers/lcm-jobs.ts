import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbJobStore } from '../adapters/dynamodb-job-store';
import { SqsJobTickQueue, sqsClient } from '../adapters/sqs-queue';
import { jobView } from '../domain/job';
import { callerOf } from '../http/caller';
import { AGENT_MAY_NOT_DELETE, isConsoleAgent, mayRequest, requestedBy } from '../domain/console-access';
import type { HttpEvent } from '../http/route';
import { forbidden } from '../http/errors';
import { defineHandler } from '../http/define-routes';
import { paged } from '../http/paged';
import { logger, metrics, MetricUnit } from '../observability';
import { addJobCards, cancelJob, createJob, listJobCards, readJob, startJob } from '../use-cases/lcm-jobs';
import { spec } from './lcm-jobs.spec';
import { traceClient } from '../tracing';

/**
 * A console agent may not make a DELETE job delete more: adding cards to it or starting it is refused like creating
 * it. Only an agent's call reads the job for that; cancelling (which deletes nothing more) stays open to them.
 */
async function refuseAgentOnDeleteJob(deps: { jobs: DynamoDbJobStore; agentRoleName: string | undefined }, jobId: string, event: HttpEvent): Promise<void> {
  if (!isConsoleAgent(callerOf(event), deps.agentRoleName)) return;
  if ((await readJob(deps, jobId)).action === 'DELETE') throw forbidden(AGENT_MAY_NOT_DELETE);
}

/** The back office's bulk LCM jobs (DESIGN §9); the job runner (job-runner) starts their cards. */
export const handler = defineHandler(
  spec,
  (env) => ({
    jobs: new DynamoDbJobStore(documentClient(traceClient), env.TABLE_NAME),
    ticks: new SqsJobTickQueue(sqsClient(traceClient), env.LCM_JOBS_QUEUE_URL),
    now: () => new Date(),
    agentRoleName: env.CONSOLE_AGENT_ROLE_NAME,
  }),
  {
    createJob: {
      handle: async ({ headers, body, event }, deps) => {
        const caller = callerOf(event);
        if (!mayRequest(body.action, caller, deps.agentRoleName)) throw forbidden(AGENT_MAY_NOT_DELETE);
        const { created, job } = await createJob(deps, body, headers['idempotency-key'], { requestedBy: requestedBy(caller) });
        if (created) {
          metrics.addMetric('JobsCreated', MetricUnit.Count, 1);
          logger.info('job created', { jobId: job.jobId, action: job.action, cards: job.counts.cards });
        }
        return { status: created ? 202 : 200, body: jobView(job), headers: { location: `/v1/lcm-jobs/${job.jobId}` } };
      },
    },
    addJobCards: {
      handle: async ({ path, body, event }, deps) => {
        await refuseAgentOnDeleteJob(deps, path.jobId, event);
        return { status: 200, body: jobView(await addJobCards(deps, path.jobId, body.issuerCardRefIds)) };
      },
    },
    startJob: {
      handle: async ({ path, event }, deps) => {
        await refuseAgentOnDeleteJob(deps, path.jobId, event);
        const job = await startJob(deps, path.jobId);
        logger.info('job started', { jobId: job.jobId, cards: job.counts.cards });
        return { status: 202, body: jobView(job) };
      },
    },
    cancelJob: {
      handle: async ({ path }, deps) => {
        const job = await cancelJob(deps, path.jobId);
        logger.info('job cancelled', { jobId: job.jobId, started: job.counts.started, cards: job.counts.cards });
        return { status: 200, body: jobView(job) };
      },
    },
    getJob: {
      handle: async ({ path }, deps) => ({ status: 200, body: jobView(await readJob(deps, path.jobId)) }),
    },
    listJobCards: {
      handle: async ({ path, query }, deps) => {
        const page = await paged(() => listJobCards(deps, path.jobId, { status: query.status }, { limit: query.limit, nextToken: query.nextToken }));
        const cards = page.items.map((c) => ({ issuerCardRefId: c.issuerCardRefId, operationId: c.operationId, status: c.status }));
        return { status: 200, body: { cards, nextToken: page.nextToken } };
      },
    },
  },
);
