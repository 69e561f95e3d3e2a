/**
 * Demo data for `npm start`: cards and tokens in the D1 simulator, then one ACTIVATE callback per token through
 * our real webhook — the way the service learns tokens in production.
 */
export async function seedDemoData(options: { simulatorUrl: string; serviceUrl: string; log: (line: string) => void }): Promise<void> {
  const cards = [
    {
      issuerCardRefId: 'card-1',
      tokens: [
        { virtualCardId: 'vc-1', walletProviderId: 'APPLE_PAY' },
        { virtualCardId: 'vc-2', walletProviderId: 'ANDROID_PAY' },
      ],
    },
    { issuerCardRefId: 'card-2', tokens: [{ virtualCardId: 'vc-3', walletProviderId: 'APPLE_PAY' }] },
  ];
  for (const card of cards) {
    const response = await fetch(`${options.simulatorUrl}/_sim/cards`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(card),
    });
    if (!response.ok) throw new Error(`seeding ${card.issuerCardRefId} failed: ${response.status}`);
  }
  for (const card of cards) {
    for (const token of card.tokens) {
      const response = await fetch(`${options.simulatorUrl}/_sim/callbacks?wait=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          issuerCardRefId: card.issuerCardRefId,
          ...token,
          action: 'ACTIVATE',
          source: 'TSP',
          correlationId: `seed-${token.virtualCardId}`,
        }),
      });
      if (!response.ok) throw new Error(`activating ${token.virtualCardId} failed: ${response.status}`);
    }
  }
  // Merchant side: network token t-1 of merchant m-1, learnt from a notify-token-update like any other.
  const networkToken = {
    tokenId: 't-1',
    merchantId: 'm-1',
    tokenLastDigits: '4242',
    tokenExpiryDate: '1228',
    cardLastDigits: '1234',
    cardExpiryDate: '0929',
    cardBin: '453421',
  };
  await post(`${options.simulatorUrl}/_sim/network-tokens`, networkToken);
  await post(`${options.simulatorUrl}/_sim/token-updates?wait=true`, {
    tokenId: 't-1',
    merchantId: 'm-1',
    changes: { tokenState: 'ACTIVE', tokenLastDigits: '4242', tokenExpiryDate: '1228', cardLastDigits: '1234', cardExpiryDate: '0929', cardBin: '453421' },
  });
  // The webhook acknowledged them; wait until the consumers applied them too, so nothing the user sends after the
  // banner races the seed (an ACTIVATE overtaken by the user's first SUSPEND would be IGNORED, by arrival order).
  for (const path of [...cards.flatMap((c) => c.tokens.map((t) => `/v1/tokens/${t.virtualCardId}`)), '/v1/network-tokens/t-1']) {
    await waitFor200(`${options.serviceUrl}${path}`);
  }
  options.log(`seeded demo cards ${cards.map((c) => c.issuerCardRefId).join(', ')} and network token t-1 (merchant m-1) in the D1 simulator`);
}

async function waitFor200(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await fetch(url)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`seeding: ${url} not applied within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`seeding ${url} failed: ${response.status} ${await response.text()}`);
}
