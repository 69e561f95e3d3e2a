import { randomUUID } from 'node:crypto';
import { DomainError, notFound } from '../domain/errors';
import { cancelDecision, newJob, startDecision, type Job, type JobCard, type JobCardStatus } from '../domain/job';
import type { LcmAction } from '../domain/operation';
import type { JobStore } from '../ports/job-store';
import type { JobTickQueue } from '../ports/queues';
import type { Page, PageRequest } from '../ports/token-store';
import { requestHash } from './request-operation';

export interface JobDeps {
  jobs: JobStore;
  ticks: JobTickQueue;
  now: () => Date;
  newId?: () => string;
}

export interface JobRequest {
  action: LcmAction;
  reason?: string | undefined;
  issuerCardRefIds: string[];
}

/** Idempotency keys live ≥ 24 h (DESIGN §2 rule 15), as those of POST /v1/lcm-operations. */
const IDEMPOTENCY_TTL_SECONDS = 25 * 3600;
/** A status change that lost a race is decided again on the job as it now is, a few times at most. */
const MAX_RACES = 3;

const jobNotPending = (job: Job, what: string) => new DomainError('JOB_NOT_PENDING', `the job is ${job.status}: ${what}`);

async function jobOf(deps: Pick<JobDeps, 'jobs'>, jobId: string): Promise<Job> {
  const job = await deps.jobs.get(jobId);
  if (!job) throw notFound('job');
  return job;
}

/**
 * `POST /v1/lcm-jobs`: a PENDING job with its first cards. The job (with the idempotency key) is written first,
 * then its cards; a creation cut short after the job was written is completed by the caller's retry with the same
 * key (the replay adds the cards again while the job is PENDING; a card already there counts once).
 */
export async function createJob(
  deps: JobDeps,
  request: JobRequest,
  idempotencyKey?: string,
  caller: { requestedBy?: string | null } = {},
): Promise<{ created: boolean; job: Job }> {
  const hash = requestHash(request);
  const replay = async (existing: { jobId: string; requestHash: string }) => {
    if (existing.requestHash !== hash) throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'idempotency-key was used with another request');
    const job = await jobOf(deps, existing.jobId);
    if (job.status === 'PENDING') await deps.jobs.addCards(job.jobId, request.issuerCardRefIds, deps.now());
    return { created: false, job: await jobOf(deps, existing.jobId) };
  };

  const claimed = idempotencyKey ? await deps.jobs.findIdempotencyKey(idempotencyKey) : null;
  if (claimed) return replay(claimed);

  const now = deps.now();
  const job = newJob({ jobId: (deps.newId ?? randomUUID)(), action: request.action, reason: request.reason, requestedBy: caller.requestedBy ?? null, now });
  const claim = idempotencyKey ? { key: idempotencyKey, requestHash: hash, expiresAt: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS } : undefined;
  const created = await deps.jobs.create(job, claim);
  if (created.kind === 'key-exists') return replay(created);
  await deps.jobs.addCards(job.jobId, request.issuerCardRefIds, now);
  return { created: true, job: await jobOf(deps, job.jobId) };
}

/** `POST /v1/lcm-jobs/{jobId}/cards`: only while PENDING; a card already in the job is counted once. */
export async function addJobCards(deps: JobDeps, jobId: string, issuerCardRefIds: string[]): Promise<Job> {
  const job = await jobOf(deps, jobId);
  if (job.status !== 'PENDING') throw jobNotPending(job, 'cards are added only while it is PENDING');
  const result = await deps.jobs.addCards(jobId, issuerCardRefIds, deps.now());
  const after = await jobOf(deps, jobId);
  if (result.kind === 'not-pending') throw jobNotPending(after, 'cards are added only while it is PENDING');
  return after;
}

/**
 * `POST /v1/lcm-jobs/{jobId}/start`: PENDING → RUNNING, then the first tick of its chain. Starting a RUNNING job
 * again answers the job as it is and queues a tick of its current generation: that heals a start whose first tick
 * was never queued, and a tick of a live chain is dropped by its claim.
 */
export async function startJob(deps: JobDeps, jobId: string): Promise<Job> {
  for (let race = 0; race < MAX_RACES; race++) {
    const job = await jobOf(deps, jobId);
    const decision = startDecision(job);
    if (decision === 'NOT_PENDING') throw jobNotPending(job, 'only a PENDING job starts');
    if (decision === 'START' && !(await deps.jobs.start(jobId, deps.now()))) continue;
    await deps.ticks.send({ jobId, generation: job.generation }, 0);
    return jobOf(deps, jobId);
  }
  throw new Error(`job ${jobId} kept changing while starting it`);
}

/**
 * `POST /v1/lcm-jobs/{jobId}/cancel`: no card starts any more; those in flight finish and are still counted.
 * Cancelling a CANCELLED job answers it again; a COMPLETED one cannot be cancelled.
 */
export async function cancelJob(deps: JobDeps, jobId: string): Promise<Job> {
  for (let race = 0; race < MAX_RACES; race++) {
    const job = await jobOf(deps, jobId);
    const decision = cancelDecision(job);
    if (decision === 'COMPLETED') throw jobNotPending(job, 'a COMPLETED job cannot be cancelled');
    if (decision === 'ALREADY_CANCELLED' || (await deps.jobs.cancel(jobId, deps.now()))) return jobOf(deps, jobId);
  }
  throw new Error(`job ${jobId} kept changing while cancelling it`);
}

/** `GET /v1/lcm-jobs/{jobId}`. */
export const readJob = jobOf;

/** `GET /v1/lcm-jobs/{jobId}/cards`: the job's cards, optionally of one status; 404 for an unknown job. */
export async function listJobCards(
  deps: Pick<JobDeps, 'jobs'>,
  jobId: string,
  filter: { status?: JobCardStatus | undefined },
  page: PageRequest,
): Promise<Page<JobCard>> {
  await readJob(deps, jobId);
  return deps.jobs.listCards(jobId, filter, page);
}
