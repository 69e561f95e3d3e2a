/** Demo data for `npm start`: seeded in the D1 simulator (issue 4 adds the tokens' activation callbacks). */
export async function seedDemoData(options: { simulatorUrl: string; log: (line: string) => void }): Promise<void> {
  const cards = [
    { issuerCardRefId: 'card-1', tokens: [{ virtualCardId: 'vc-1', walletProviderId: 'APPLE_PAY' }, { virtualCardId: 'vc-2', walletProviderId: 'ANDROID_PAY' }] },
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
  options.log(`seeded demo cards ${cards.map((c) => c.issuerCardRefId).join(', ')} in the D1 simulator`);
}
