import * as z from 'zod';
import { JOB_CARD_STATUSES, JOB_STATUSES, MAX_CARDS_PER_REQUEST } from '../domain/job';
import { LCM_ACTIONS } from '../domain/operation';
import { jobIdPath, pageQuery } from '../http/params';
import { defineSpec } from '../spec';
import { createOperationHeaders } from './lcm-operations.spec';

const issuerCardRefIds = z.array(z.string().min(1).max(48)).min(1).max(MAX_CARDS_PER_REQUEST);

export const createJobBody = z
  .object({
    action: z.enum(LCM_ACTIONS),
    reason: z.string().min(1).max(256).optional(),
    /** Repeated ids count once. More cards: POST /v1/lcm-jobs/{jobId}/cards while the job is PENDING. */
    issuerCardRefIds,
  })
  .meta({ id: 'CreateJob' });

export const addJobCardsBody = z.object({ issuerCardRefIds }).meta({ id: 'AddJobCards' });

export const jobSchema = z
  .object({
    jobId: z.string(),
    action: z.enum(LCM_ACTIONS),
    reason: z.string().nullable(),
    status: z.enum(JOB_STATUSES),
    /** cards = not started + started; started = SUCCEEDED + PARTIALLY_FAILED + FAILED + inFlight, at every instant. */
    counts: z.object({
      cards: z.number().int(),
      started: z.number().int(),
      SUCCEEDED: z.number().int(),
      PARTIALLY_FAILED: z.number().int(),
      FAILED: z.number().int(),
      inFlight: z.number().int(),
    }),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Job' });

export const jobCardsQuery = pageQuery.extend({ status: z.enum(JOB_CARD_STATUSES).optional() });

export const jobCardsSchema = z
  .object({
    cards: z.array(z.object({ issuerCardRefId: z.string(), operationId: z.string().nullable(), status: z.enum(JOB_CARD_STATUSES) })),
    nextToken: z.string().nullable(),
  })
  .meta({ id: 'JobCards' });

const route = { apis: ['backoffice'], auth: 'iam' } as const;

export const spec = defineSpec({
  description: "The back office's bulk LCM jobs (DESIGN §9): create, add cards, start, cancel, read; the job runner starts the cards",
  env: ['TABLE_NAME', 'LCM_JOBS_QUEUE_URL', 'CONSOLE_AGENT_ROLE_NAME'],
  table: 'readwrite',
  sendsTo: ['lcmJobs'],
  routes: {
    createJob: {
      ...route,
      method: 'POST',
      path: '/v1/lcm-jobs',
      summary: 'A bulk job: one action on up to 1000 cards (PENDING: more cards may be added)',
      request: { headers: createOperationHeaders, body: createJobBody },
      responses: { 202: jobSchema, 200: jobSchema },
      // 403: a console agent asking for DELETE (CONSOLE_AGENT_ROLE_NAME).
      errors: [400, 403, 413, 415, 422],
    },
    addJobCards: {
      ...route,
      method: 'POST',
      path: '/v1/lcm-jobs/{jobId}/cards',
      summary: 'Adds up to 1000 cards to a PENDING job (a card already in it counts once); 409 JOB_NOT_PENDING otherwise',
      request: { path: jobIdPath, body: addJobCardsBody },
      responses: { 200: jobSchema },
      // 403: a console agent adding cards to a DELETE job.
      errors: [400, 403, 404, 409, 413, 415],
    },
    startJob: {
      ...route,
      method: 'POST',
      path: '/v1/lcm-jobs/{jobId}/start',
      summary: 'Starts a PENDING job (RUNNING); a RUNNING one answers as it is; 409 JOB_NOT_PENDING once CANCELLED or COMPLETED',
      request: { path: jobIdPath },
      responses: { 202: jobSchema },
      // 403: a console agent starting a DELETE job.
      errors: [403, 404, 409, 415],
    },
    cancelJob: {
      ...route,
      method: 'POST',
      path: '/v1/lcm-jobs/{jobId}/cancel',
      summary: 'Cancels a job: no new operations start, those in flight finish; 409 JOB_NOT_PENDING once COMPLETED',
      request: { path: jobIdPath },
      responses: { 200: jobSchema },
      errors: [404, 409, 415],
    },
    getJob: {
      ...route,
      method: 'GET',
      path: '/v1/lcm-jobs/{jobId}',
      summary: 'A job and its counts',
      request: { path: jobIdPath },
      responses: { 200: jobSchema },
      errors: [404],
    },
    listJobCards: {
      ...route,
      method: 'GET',
      path: '/v1/lcm-jobs/{jobId}/cards',
      summary: "A job's cards (optionally of one status) with their operations",
      request: { path: jobIdPath, query: jobCardsQuery },
      responses: { 200: jobCardsSchema },
      errors: [400, 404],
    },
  },
});
