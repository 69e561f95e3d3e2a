/**
 * The `/_sim/` control API: seed cards and network tokens, send wallet/TSP/renewal callbacks and merchant token
 * updates (one or a reordered batch), arm faults, and read what our service sent and what the simulator delivered.
 * Not part of D1's contract. Bad input answers 400 VALIDATION_FAILED (BadRequest, mapped by the server).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  callbackBatchSchema,
  callbackSchema,
  cardBatchSchema,
  cardSchema,
  networkTokenSchema,
  tokenFieldsSchema,
  tokenUpdateBatchSchema,
  tokenUpdateRefSchema,
  tokenUpdateSchema,
} from './control-schemas';
import type { Deliveries, Planned } from './delivery';
import type { Faults } from './faults';
import { isObject, notFound, readBody, sendJson, type Answer, type Json, type RequestRecord } from './http';
import { tokenFieldsOf, type SimModel, type SimNetworkToken, type TokenFields } from './model';
import { maxInAnyWindow } from './pace';
import { BadRequest, parse } from './validation';

export interface ControlDeps {
  model: SimModel;
  faults: Faults;
  deliveries: Deliveries;
  requests: RequestRecord[];
  /** Forgets cards, network tokens, faults and logs. */
  reset: () => void;
}

interface PlannedUpdate {
  planned: Planned;
  fields: TokenFields;
}

const tokenView = (t: SimNetworkToken): Json => ({ ...t });

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

/** Delivery order of a batch: the model has already changed in the given order (what happened). */
function reorder(plan: Planned[], order: 'as-given' | 'reverse' | 'shuffle'): Planned[] {
  if (order === 'reverse') plan.reverse();
  if (order === 'shuffle') shuffle(plan);
  return plan;
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const raw = await readBody(req);
  if (raw.tooLarge) throw new BadRequest('body too large');
  if (raw.text === '') return {};
  if (!isObject(raw.json)) throw new BadRequest('body must be a JSON object');
  return raw.json;
}

/** Serves `/_sim/*`; false for any other path. */
export function controlApi({ model, faults, deliveries, requests, reset }: ControlDeps) {
  function seedCard(body: Json): Answer {
    const card = parse(cardSchema, body);
    model.seedCard(card.issuerCardRefId, card.tokens);
    return [201, model.cardView(card.issuerCardRefId)];
  }

  /** A `/_sim/callbacks` item → planned delivery (validation only; see applyCallback). */
  function planCallback(input: unknown): Planned {
    const spec = parse(callbackSchema, input);
    const known = model.cards.get(spec.issuerCardRefId)?.get(spec.virtualCardId);
    const { issuerCardRefId, virtualCardId, action } = spec;
    return {
      kind: 'callback',
      correlationId: spec.correlationId ?? randomUUID(),
      body: {
        issuerCardRefId,
        virtualCardId,
        walletProviderId: spec.walletProviderId ?? known?.walletProviderId ?? 'APPLE_PAY',
        action,
        isPrimary: true,
        ...(spec.source === null ? {} : { source: spec.source }),
        ...(typeof spec.errorCode === 'number' ? { errorCode: spec.errorCode } : {}),
        ...(spec.tokenInfo !== undefined ? { tokenInfo: spec.tokenInfo } : {}),
        ...(spec.tokenStorageId !== undefined ? { tokenStorageId: spec.tokenStorageId } : {}),
        ...(spec.walletCardRefId !== undefined ? { walletCardRefId: spec.walletCardRefId } : {}),
      },
      copies: 1 + spec.delivery.duplicate,
      delayMs: spec.delivery.delayMs,
      concurrent: spec.delivery.concurrent,
    };
  }

  /** A wallet/TSP change happened at D1: its model moves unless the callback reports a failure. */
  function applyCallback({ body }: Planned): void {
    if (body.errorCode !== undefined) return;
    model.applyChange(String(body.issuerCardRefId), String(body.virtualCardId), String(body.action), String(body.walletProviderId));
  }

  function seedNetworkToken(body: Json): Answer {
    const { tokenId, merchantId } = parse(networkTokenSchema, body);
    const known = model.networkTokens.get(tokenId);
    if (!known && merchantId === undefined) throw new BadRequest('merchantId is required for a new token');
    parse(tokenFieldsSchema(''), body);
    const token = model.upsertNetworkToken(tokenId, merchantId ?? known!.merchantId, tokenFieldsOf(body));
    if (known && merchantId !== undefined) token.merchantId = merchantId;
    return [known ? 200 : 201, tokenView(token)];
  }

  /**
   * A `/_sim/token-updates` item → planned delivery. `merchants` carries the merchant of tokens created earlier in
   * the same batch, so a whole batch is validated before the model changes.
   */
  function planTokenUpdate(input: unknown, merchants: Map<string, string>): PlannedUpdate {
    const { tokenId, merchantId: given } = parse(tokenUpdateRefSchema, input);
    const merchantId = given ?? merchants.get(tokenId) ?? model.networkTokens.get(tokenId)?.merchantId;
    if (!merchantId) throw new BadRequest(`merchantId is required for unknown token ${tokenId}`);
    merchants.set(tokenId, merchantId);
    const spec = parse(tokenUpdateSchema, input);
    // Validated above; taken from the input so the fields keep the order they were given in.
    const fields = tokenFieldsOf((input as { changes?: Json }).changes ?? {});
    const { apiKey, duplicate, delayMs, concurrent } = spec.delivery;
    return {
      fields,
      planned: {
        kind: 'token-update',
        correlationId: spec.correlationId ?? randomUUID(),
        body: { tokenId, merchantId, lastUpdateTimestamp: spec.lastUpdateTimestamp ?? model.nextTimestamp(), ...fields },
        copies: 1 + duplicate,
        delayMs,
        concurrent,
        ...(apiKey === 'wrong' || apiKey === 'missing' ? { apiKey } : {}),
      },
    };
  }

  /** The change happened at the TSP: D1's model moves before (and whether or not) we acknowledge it. */
  function applyTokenUpdate({ planned, fields }: PlannedUpdate): void {
    model.upsertNetworkToken(String(planned.body.tokenId), String(planned.body.merchantId), fields);
  }

  /** 202 at once, or with `?wait=true` 200 once every copy got its final status. */
  async function send(plan: Planned[], wait: boolean, extra: Json): Promise<Answer> {
    const total = plan.reduce((n, p) => n + p.copies, 0);
    if (!wait) {
      void deliveries.start(plan);
      return [202, { ...extra, deliveries: total }];
    }
    const done = await deliveries.start(plan);
    return [200, { ...extra, deliveries: total, statuses: done.map((d) => d.status) }];
  }

  async function route(req: IncomingMessage, key: string, url: URL, wait: boolean): Promise<Answer | undefined> {
    const path = url.pathname;
    switch (key) {
      case 'GET /_sim/health':
        return [200, { status: 'ok' }];
      case 'POST /_sim/reset':
        reset();
        return [200, {}];
      case 'GET /_sim/cards':
        return [200, { cards: [...model.cards.keys()].map((id) => model.cardView(id)) }];
      case 'POST /_sim/cards':
        return seedCard(await readJson(req));
      case 'GET /_sim/cards/{id}': {
        const id = decodeURIComponent(path.slice('/_sim/cards/'.length));
        return model.cards.has(id) ? [200, model.cardView(id)] : undefined;
      }
      case 'POST /_sim/card-batches': {
        // A portfolio for bulk jobs: seeded, then learnt by the service through one ACTIVATE per token.
        const batch = parse(cardBatchSchema, await readJson(req));
        const ids = Array.from({ length: batch.count }, (_, i) => ({ issuerCardRefId: `${batch.prefix}-card-${i}`, virtualCardId: `${batch.prefix}-vc-${i}` }));
        for (const card of ids) model.seedCard(card.issuerCardRefId, [{ virtualCardId: card.virtualCardId, walletProviderId: 'APPLE_PAY', status: 'RESUMED' }]);
        const summary = { cards: ids.length, first: ids[0]!.issuerCardRefId, last: ids.at(-1)!.issuerCardRefId };
        if (!batch.activate) return [201, summary];
        const plan = ids.map((card) => planCallback({ ...card, action: 'ACTIVATE', source: 'TSP' }));
        plan.forEach(applyCallback);
        const [status, body] = await send(plan, wait, summary);
        // A tally, not a thousand statuses.
        const { statuses, ...rest } = body as Json & { statuses?: number[] };
        if (!statuses) return [status, rest];
        const delivered: Record<string, number> = {};
        for (const s of statuses) delivered[s] = (delivered[s] ?? 0) + 1;
        return [status, { ...rest, delivered }];
      }
      case 'POST /_sim/callbacks': {
        const planned = planCallback(await readJson(req));
        applyCallback(planned);
        return send([planned], wait, { correlationId: planned.correlationId });
      }
      case 'POST /_sim/callbacks/batch': {
        const batch = parse(callbackBatchSchema, await readJson(req));
        const plan = batch.callbacks.map(planCallback); // all validated before anything changes
        plan.forEach(applyCallback);
        reorder(plan, batch.order);
        const sent = plan.map((p) => ({ correlationId: p.correlationId, virtualCardId: p.body.virtualCardId, action: p.body.action }));
        return send(plan, wait, { order: sent });
      }
      case 'GET /_sim/network-tokens':
        return [200, { tokens: [...model.networkTokens.values()].map(tokenView) }];
      case 'POST /_sim/network-tokens':
        return seedNetworkToken(await readJson(req));
      case 'GET /_sim/network-tokens/{id}': {
        const token = model.networkTokens.get(decodeURIComponent(path.slice('/_sim/network-tokens/'.length)));
        return token ? [200, tokenView(token)] : undefined;
      }
      case 'POST /_sim/token-updates': {
        const item = planTokenUpdate(await readJson(req), new Map());
        applyTokenUpdate(item);
        return send([item.planned], wait, { correlationId: item.planned.correlationId });
      }
      case 'POST /_sim/token-updates/batch': {
        const batch = parse(tokenUpdateBatchSchema, await readJson(req));
        const merchants = new Map<string, string>();
        const items = batch.updates.map((u) => planTokenUpdate(u, merchants)); // all validated before anything changes
        items.forEach(applyTokenUpdate);
        const plan = reorder(
          items.map((i) => i.planned),
          batch.order,
        );
        const sent = plan.map((p) => ({ correlationId: p.correlationId, tokenId: p.body.tokenId, lastUpdateTimestamp: p.body.lastUpdateTimestamp }));
        return send(plan, wait, { order: sent });
      }
      case 'GET /_sim/faults':
        return [200, faults.view()];
      case 'POST /_sim/faults':
        faults.set(await readJson(req));
        return [200, faults.view()];
      case 'DELETE /_sim/faults':
        faults.clear();
        return [200, {}];
      case 'GET /_sim/requests':
        return [200, { requests }];
      case 'GET /_sim/requests/pace': {
        // `?path=/updateCardState` (the default): the most such calls in any sliding second.
        const endpoint = url.searchParams.get('path') ?? '/updateCardState';
        const times = requests.filter((r) => r.path.endsWith(endpoint)).map((r) => r.receivedAtMs);
        return [200, { path: endpoint, calls: times.length, maxInAnySecond: maxInAnyWindow(times) }];
      }
      case 'DELETE /_sim/requests':
        requests.length = 0;
        return [200, {}];
      case 'GET /_sim/deliveries':
        return [200, { deliveries: deliveries.records }];
      case 'DELETE /_sim/deliveries':
        deliveries.records.length = 0;
        return [200, {}];
      default:
        return undefined;
    }
  }

  return async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    if (!path.startsWith('/_sim/')) return false;
    const method = req.method ?? 'GET';
    const key = `${method} ${path.replace(/^\/_sim\/cards\/.+$/, '/_sim/cards/{id}').replace(/^\/_sim\/network-tokens\/.+$/, '/_sim/network-tokens/{id}')}`;
    const answer = await route(req, key, url, url.searchParams.get('wait') === 'true');
    if (answer) sendJson(res, ...answer);
    else notFound(res, method, path);
    return true;
  };
}
