import type { HttpEvent } from './route';

/**
 * Who is calling: the IAM identity API Gateway authorised (user or role ARN) on an IAM-authorised route, null
 * where there is none (the local gateway, which authorises nothing).
 */
export function callerIdentity(event: HttpEvent): string | null {
  const context = event.requestContext as { authorizer?: { iam?: { userArn?: string | null } } } | undefined;
  return context?.authorizer?.iam?.userArn ?? null;
}
