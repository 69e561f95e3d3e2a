import type { EventType } from '../domain/events';
import type { WebhookRequest } from '../domain/webhooks';
import type { Subscription, SubscriptionDirectory } from './events';

/**
 * Webhook subscriptions as the back-office routes and the delivery consumer see them. Secrets are only ever held
 * sealed here (`SecretVault` seals and opens them); a subscription as listed carries none.
 */
export interface NewSubscription {
  subscriptionId: string;
  url: string;
  /** Stored explicitly: every type when the caller named none. */
  eventTypes: EventType[];
  description: string | null;
  createdAt: string;
  /** The signing secret, sealed by the vault for this subscription id. */
  sealedSecret: string;
}

/** The secrets a delivery signs with now: the current one first, then the previous one during a rotation's overlap. */
export interface SigningSecrets {
  subscription: Subscription;
  /** Sealed; newest first; one or two. */
  sealed: string[];
}

export interface SubscriptionStore extends SubscriptionDirectory {
  /** Fails (throws) on an id that exists already: ids are generated, so that is a bug, not a conflict to resolve. */
  create(subscription: NewSubscription): Promise<void>;
  get(subscriptionId: string): Promise<Subscription | null>;
  /** Every subscription, oldest first. */
  list(): Promise<Subscription[]>;
  /** false: no such subscription (a 404). */
  delete(subscriptionId: string): Promise<boolean>;
  /**
   * The new sealed secret becomes current; the current one becomes the previous one, signing beside it until
   * `previousSecretExpiresAt`. false: no such subscription (a 404; a deleted one stays deleted).
   */
  rotateSecret(subscriptionId: string, sealedSecret: string, previousSecretExpiresAt: string): Promise<boolean>;
  /** The subscription and the sealed secrets valid at `now`, in one read; null when there is no such subscription. */
  getSigningSecrets(subscriptionId: string, now: Date): Promise<SigningSecrets | null>;
}

/** Webhook secrets at rest: sealed in the same vault (keys, SDK) as token PANs, bound to their subscription id. */
export interface SecretVault {
  seal(secret: string, subscriptionId: string): Promise<string>;
  open(sealed: string, subscriptionId: string): Promise<string>;
}

/** Where a webhook may point (DESIGN §8 SSRF guard): null when allowed, else why not (a field message for `url`). */
export interface WebhookUrlPolicy {
  check(url: string): Promise<string | null>;
}

export type SendOutcome = { delivered: true; status: number } | { delivered: false; status: number | null; error: string };

/** One POST of one attempt; never throws for the endpoint's failures (status, timeout, refused): they are outcomes. */
export interface WebhookSender {
  send(url: string, request: WebhookRequest): Promise<SendOutcome>;
}

/** A request field the use case found invalid after the schema passed (answered as a 400 naming `path`). */
export class InvalidRequestField extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidRequestField';
  }
}
