/**
 * D1 Issuer Gateway methods our service calls (d1-api.md §1, §2): `updateCardState`, which answers 200 `{}` and
 * then sends one `notifyVirtualCardChange` per affected token, and `getCardInfo`, which lists a card's tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deliveries } from './delivery';
import { faultyCallbacks, type Faults } from './faults';
import { header, isObject, isText, methodNotAllowed, serveRecorded, type Answer, type Json, type Log, type RequestRecord } from './http';
import { deviceInformation, isTerminal, STATUS_AFTER, type SimModel, type SimToken } from './model';

const LCM_ACTIONS: readonly string[] = ['SUSPEND', 'RESUME', 'DELETE'];
// With or without D1's /gtep/igwapi/v2.0 prefix in the configured base URL.
const IGW_PATH = /^(?:\/gtep\/igwapi\/v2\.0)?\/(updateCardState|getCardInfo)$/;

export interface IssuerGatewayDeps {
  issuerId: string;
  model: SimModel;
  faults: Faults;
  deliveries: Deliveries;
  requests: RequestRecord[];
  log: Log;
}

/** IGW error body `errorRes` (d1-api.md §2.1). */
const igwError = (responseCode: number, errorMessage: string): Answer => [400, { responseCode, errorMessage }];

/** Serves the IGW methods; false when `path` is none of them. */
export function issuerGateway({ issuerId, model, faults, deliveries, requests, log }: IssuerGatewayDeps) {
  /** Headers every IGW method requires; undefined when they are fine. */
  function checkHeaders(req: IncomingMessage): Answer | undefined {
    const correlationId = header(req, 'x-correlation-id');
    const presented = header(req, 'x-issuer-id');
    const missing = [!correlationId && 'x-correlation-id', !presented && 'x-issuer-id'].filter(Boolean);
    if (missing.length) return igwError(111, `Missing mandatory parameter: ${missing.join(', ')}`);
    if (correlationId!.length > 64 || presented!.length !== 10) return igwError(112, 'Bad parameter format: x-correlation-id or x-issuer-id');
    if (presented !== issuerId) return igwError(113, 'Unknown issuer');
    return undefined;
  }

  /** Returns the answer, or undefined to hold the request open (`timeout` fault). */
  async function updateCardState(req: IncomingMessage, body: Json): Promise<Answer | undefined> {
    const headerError = checkHeaders(req);
    if (headerError) return headerError;
    const { issuerCardRefId: cardId, virtualCardId, action } = body;
    const missing = [!isText(cardId) && 'issuerCardRefId', !isText(action) && 'action'].filter(Boolean);
    if (missing.length) return igwError(111, `Missing mandatory parameter: ${missing.join(', ')}`);
    if (!LCM_ACTIONS.includes(action as string)) return igwError(112, 'Bad parameter format: action');
    if (virtualCardId !== undefined && !isText(virtualCardId)) return igwError(112, 'Bad parameter format: virtualCardId');

    const fault = faults.takeUpdate();
    switch (fault.mode) {
      case 'timeout':
        return undefined;
      case 'http500':
        return [500, { responseCode: fault.responseCode ?? 921, errorMessage: 'Unexpected server error' }];
      case 'http503':
        return [503, { responseCode: fault.responseCode ?? 921, errorMessage: 'Service unavailable' }];
      case 'http429':
        return [429, { responseCode: fault.responseCode ?? 921, errorMessage: 'Too many requests' }];
      case 'reject400':
        return igwError(fault.responseCode ?? 911, 'Operation failed');
      case 'ok':
        break;
    }

    const tokens = model.tokensOf(cardId as string);
    let targets: SimToken[];
    if (virtualCardId === undefined) {
      targets = tokens.filter((t) => !isTerminal(t.status)); // card scope; an unknown card has no tokens
    } else {
      const token = tokens.find((t) => t.virtualCardId === virtualCardId);
      if (!token) return igwError(119, 'Unknown virtual card');
      if (isTerminal(token.status)) return igwError(432, 'Operation is not allowed with current card state');
      targets = [token];
    }

    const cbFault = faults.takeCallbacks();
    // D1's truth moves even if the callback is dropped, but not when the callback reports a failure.
    if (typeof cbFault.errorCode !== 'number') for (const t of targets) t.status = STATUS_AFTER[action as string]!;
    const correlationId = header(req, 'x-correlation-id')!;
    const plan = faultyCallbacks(
      cbFault,
      correlationId,
      targets.map((t) => ({
        issuerCardRefId: cardId,
        virtualCardId: t.virtualCardId,
        walletProviderId: t.walletProviderId,
        action,
        source: 'ISSUER',
        isPrimary: true,
      })),
    );
    log(
      `updateCardState ${String(action)} ${String(cardId)}${virtualCardId ? `/${String(virtualCardId)}` : ' (card)'}` +
        ` x-correlation-id=${correlationId} -> ${plan.length} callback(s)${cbFault.drop ? ' dropped' : ''}`,
    );
    if (cbFault.beforeAnswer) await deliveries.start(plan);
    else void deliveries.start(plan);
    return [200, {}];
  }

  function getCardInfo(req: IncomingMessage, body: Json): Answer {
    const headerError = checkHeaders(req);
    if (headerError) return headerError;
    const cardId = body.issuerCardRefId;
    if (!isText(cardId)) return igwError(111, 'Missing mandatory parameter: issuerCardRefId');
    // An unknown card lists no tokens, so reconciliation can see tokens D1 "no longer lists".
    const virtualCardList = model.tokensOf(cardId).map((t) => ({
      virtualCardId: t.virtualCardId,
      issuerCardRefId: cardId,
      walletProviderId: t.walletProviderId,
      deviceInformation: deviceInformation(t),
      status: t.status,
    }));
    return [200, { issuerCardRefId: cardId, virtualCardList }];
  }

  return async function serve(req: IncomingMessage, res: ServerResponse, { pathname: path }: URL): Promise<boolean> {
    const method = IGW_PATH.exec(path)?.[1];
    if (!method) return false;
    if (req.method !== 'POST') {
      methodNotAllowed(res, { responseCode: 112, errorMessage: 'method not allowed' });
      return true;
    }
    await serveRecorded(req, res, requests, log, path, {
      name: 'updateCardState', // the only method the timeout fault holds
      headers: { 'x-correlation-id': header(req, 'x-correlation-id') ?? null, 'x-issuer-id': header(req, 'x-issuer-id') ?? null },
      handle: async (raw) => {
        if (raw.tooLarge) return igwError(112, 'Bad parameter format: body too large');
        if (!isObject(raw.json)) return igwError(112, 'Bad parameter format: body must be a JSON object');
        return method === 'updateCardState' ? updateCardState(req, raw.json) : getCardInfo(req, raw.json);
      },
    });
    return true;
  };
}
