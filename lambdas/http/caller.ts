import { requestedBy, type Caller } from '../domain/console-access';
import type { HttpEvent } from './route';

/**
 * What API Gateway's IAM authorizer says of the caller. The aws-lambda types declare `cognitoIdentity` as null; AWS
 * fills it (`{ amr, identityId, identityPoolId }`) when the request was signed with Cognito identity-pool credentials.
 */
interface IamAuthorizerContext {
  authorizer?: { iam?: { userArn?: string | null; cognitoIdentity?: { identityId?: string | null } | null } | null } | null;
}

/** Who is calling, on an IAM-authorised route; both fields null where there is none (the local gateway). */
export function callerOf(event: HttpEvent): Caller {
  const iam = (event.requestContext as IamAuthorizerContext | undefined)?.authorizer?.iam;
  return { userArn: iam?.userArn || null, cognitoIdentityId: iam?.cognitoIdentity?.identityId || null };
}

/** `requestedBy`: the Cognito identity (`cognito:<identityId>`) when there is one, else the user or role ARN, else null. */
export const callerIdentity = (event: HttpEvent): string | null => requestedBy(callerOf(event));
