import type { LcmAction } from './operation';

/**
 * Who may ask for what, as far as the request body decides it. API Gateway's IAM authorisation sees the route,
 * not the body, so the operations console's two Cognito groups — agents (read, suspend, resume) and supervisors
 * (also delete) — cannot be told apart by IAM on `POST /v1/lcm-operations` or `POST /v1/lcm-jobs`: the handler asks
 * this. Pure: the caller's identity comes in as API Gateway's request context gave it.
 */

/** The IAM principal API Gateway authorised, and the Cognito identity behind it when the call was signed with
 * Cognito identity-pool credentials. Both null under the local gateway, which authorises nothing. */
export interface Caller {
  userArn: string | null;
  cognitoIdentityId: string | null;
}

/** An IAM role name (the characters IAM allows, 1–64). */
export const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * `requestedBy` of an operation (DESIGN §3): `cognito:<identityId>` when a Cognito identity signed the call — the
 * human behind it; the role ARN is only their group's shared role —, else the user or role ARN, else null.
 */
export function requestedBy(caller: Caller): string | null {
  if (caller.cognitoIdentityId) return `cognito:${caller.cognitoIdentityId}`;
  return caller.userArn || null;
}

/**
 * The role an IAM principal ARN names: `arn:<partition>:sts::<account>:assumed-role/<role>/<session>` (a session
 * of the role, how Cognito and console users call) or `arn:<partition>:iam::<account>:role[/<path>]/<role>`.
 * Null for anything else (an IAM user, a malformed ARN).
 */
export function roleNameOf(arn: string): string | null {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  const [, , service, , , ...rest] = parts;
  const resource = rest.join(':').split('/');
  if (service === 'sts' && resource[0] === 'assumed-role' && resource.length >= 3) return resource[1] || null;
  if (service === 'iam' && resource[0] === 'role' && resource.length >= 2) return resource[resource.length - 1] || null;
  return null;
}

/**
 * Whether the caller acts as a console agent: `agentRoleName` is configured and the caller's ARN names that role.
 * IAM role names are unique regardless of case, so they compare without it.
 */
export function isConsoleAgent(caller: Pick<Caller, 'userArn'>, agentRoleName: string | undefined): boolean {
  if (!agentRoleName || !caller.userArn) return false;
  const role = roleNameOf(caller.userArn);
  return role !== null && role.toLowerCase() === agentRoleName.toLowerCase();
}

export const AGENT_MAY_NOT_DELETE = 'console agents may not DELETE: a supervisor must ask for it';

/** Agents may read, suspend and resume; only supervisors (any other principal) may DELETE. */
export function mayRequest(action: LcmAction, caller: Pick<Caller, 'userArn'>, agentRoleName: string | undefined): boolean {
  return action !== 'DELETE' || !isConsoleAgent(caller, agentRoleName);
}
