/**
 * The operations console in a real browser (Debian's chromium through playwright-core) against `npm start` itself:
 * one service and one browser for the file, a fresh page per test. Screenshots go to test-artifacts/console/.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifact, launchBrowser, postJson, startService, type RunningService } from './support';

let service: RunningService;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Console messages about the CSP: an inline script or style, or a blocked image, would show up here. */
let cspViolations: string[] = [];

jest.setTimeout(60_000);

beforeAll(async () => {
  [service, browser] = await Promise.all([startService(), launchBrowser()]);
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await service?.stop();
}, 30_000);

beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  cspViolations = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
  });
});

afterEach(async () => {
  await context.close();
  expect(cspViolations).toEqual([]);
});

const open = async (hash: string): Promise<void> => {
  await page.goto(`${service.consoleUrl}${hash}`);
  await page.getByText('Local mode: no sign-in; requests are not signed').waitFor();
};

/** Axe on the page as it is now: no serious or critical violation. */
async function expectAccessible(label: string): Promise<void> {
  // Legacy mode runs axe in the page itself rather than in an extra page per scan (3× faster here; no iframes to cover).
  const results = await new AxeBuilder({ page }).setLegacyMode(true).analyze();
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${label}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad).toEqual([]);
}

describe('the console under npm start', () => {
  it('is served at /console/ with the security headers; /console redirects there', async () => {
    const redirect = await fetch(`${service.url}/console`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([308, '/console/']);
    const index = await fetch(service.consoleUrl);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect([index.headers.get('x-content-type-options'), index.headers.get('referrer-policy'), index.headers.get('x-frame-options')]).toEqual([
      'nosniff',
      'no-referrer',
      'DENY',
    ]);
    expect(await (await fetch(`${service.consoleUrl}config.json`)).json()).toEqual({ mode: 'local' });
    const missing = await fetch(`${service.consoleUrl}nope.js`);
    expect([missing.status, missing.headers.get('x-frame-options')]).toEqual([404, 'DENY']);
    // The API is untouched beside it.
    expect((await fetch(`${service.url}/v1/tokens/vc-1`)).status).toBe(200);
  });

  it("an agent's journey: card lookup, suspend a token with a reason, the operation SUCCEEDED, SUSPEND in the history", async () => {
    await open('#/cards');
    await page.getByLabel('Issuer card reference (issuerCardRefId)').fill('card-1');
    await page.getByRole('button', { name: 'Look up card' }).click();
    const tokens = page.getByRole('list', { name: 'Tokens of card card-1' });
    await tokens.getByRole('link', { name: 'vc-1' }).waitFor();
    await expect(tokens.getByRole('link', { name: 'vc-2' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifact('card.png'), fullPage: true });

    await tokens.getByRole('link', { name: 'vc-1' }).click();
    await page.getByRole('heading', { name: 'Token vc-1' }).waitFor();
    await page.getByLabel(/^Reason/).fill('lost phone');
    await page.getByRole('button', { name: 'Suspend token' }).dblclick();
    await page.locator('.operation[data-status="SUCCEEDED"]').waitFor({ timeout: 20_000 });
    // The page refreshed itself: SUSPENDED now, and the history shows our SUSPEND from the ISSUER.
    await page.locator('.timeline .event', { hasText: 'SUSPEND by ISSUER' }).waitFor();
    await page.getByRole('button', { name: 'Resume token' }).waitFor();
    await page.screenshot({ path: artifact('token.png'), fullPage: true });

    // The double click made one operation: the idempotency key is per user action.
    const history = (await (await fetch(`${service.url}/v1/tokens/vc-1/history`)).json()) as { events: Array<{ action: string }> };
    expect(history.events.map((e) => e.action)).toEqual(['ACTIVATE', 'SUSPEND']);
    const operations = (await (await fetch(`${service.simulatorUrl}/_sim/requests`)).json()) as unknown;
    expect(JSON.stringify(operations).match(/\/updateCardState/g)?.length ?? 0).toBe(1);
  });

  it('where a token lives: wallet ids from its callback, the device from reconciliation, never IMEI or phone number', async () => {
    const post = (url: string, body?: unknown) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    await post(`${service.simulatorUrl}/_sim/cards`, { issuerCardRefId: 'card-dev', tokens: [{ virtualCardId: 'vc-dev', walletProviderId: 'GOOGLE_PAY' }] });
    const activated = await post(`${service.simulatorUrl}/_sim/callbacks?wait=true`, {
      issuerCardRefId: 'card-dev',
      virtualCardId: 'vc-dev',
      action: 'ACTIVATE',
      source: 'TSP',
      tokenStorageId: 'storage-7',
      walletCardRefId: 'wallet-card-7',
    });
    expect(activated.status).toBe(200);
    for (let i = 0; (await fetch(`${service.url}/v1/tokens/vc-dev`)).status !== 200; i++) {
      if (i > 100) throw new Error('vc-dev never applied');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await post(`${service.url}/v1/cards/card-dev/reconcile`)).status).toBe(200);

    await open('#/tokens/vc-dev');
    await page.getByRole('heading', { name: 'Token vc-dev' }).waitFor();
    await page.getByText('storage-7').waitFor();
    await page.getByText('wallet-card-7').waitFor();
    await page.getByText(/Google Pixel 8/).waitFor();
    const shown = await page.locator('body').innerText();
    // The simulator's deviceInformation also carries an IMEI (35…), a phone number (+4915…) and ids: none is shown.
    expect(shown).not.toMatch(/\b35\d{13}\b|\+4915|sim-device-|SIM\d{10}/);
  });

  it('a failing operation: D1 rejects updateCardState for good → FAILED with the failure reason', async () => {
    const fault = await postJson(`${service.simulatorUrl}/_sim/faults`, { updateCardState: { mode: 'reject400', responseCode: 911 } });
    expect(fault.status).toBe(200);
    try {
      await open('#/tokens/vc-3');
      await page.getByRole('button', { name: 'Suspend token' }).click();
      const failed = page.locator('.operation[data-status="FAILED"]');
      await failed.waitFor({ timeout: 20_000 });
      await expect(failed.locator('.failure').textContent()).resolves.toContain('D1_REJECTED');
      await expect(failed.locator('.failure').textContent()).resolves.toContain('911');
      await page.screenshot({ path: artifact('operation-failed.png'), fullPage: true });
    } finally {
      await fetch(`${service.simulatorUrl}/_sim/faults`, { method: 'DELETE' });
    }
  });

  it('DELETE asks to confirm: cancel does nothing, confirm creates the operation; a DELETED token offers no action', async () => {
    await open('#/tokens/vc-2');
    await page.getByRole('button', { name: 'Delete token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete token vc-2?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForTimeout(300);
    expect(((await (await fetch(`${service.url}/v1/tokens/vc-2`)).json()) as { state: string }).state).toBe('ACTIVE');
    await expect(page.getByRole('heading', { name: 'Latest action' }).isVisible()).resolves.toBe(false);

    await page.getByRole('button', { name: 'Delete token' }).click();
    await dialog.getByRole('button', { name: 'Delete token' }).click();
    await page.locator('.operation[data-status="SUCCEEDED"]').waitFor({ timeout: 20_000 });
    await page.getByTestId('no-actions').waitFor();
    await expect(page.locator('button[data-action]').count()).resolves.toBe(0);
    expect(((await (await fetch(`${service.url}/v1/tokens/vc-2`)).json()) as { state: string }).state).toBe('DELETED');
  });

  it('network-token lookup shows state, last digits and card art, and never the token PAN', async () => {
    // A transaction first, so a token PAN is stored: the page must still never show (or fetch) it.
    const transaction = await postJson(`${service.url}/v1/network-tokens/t-1/transactions`, { transactionType: 'SINGLE' });
    expect(transaction.status).toBe(201);
    const tokenPan = transaction.body.tokenPan as string;
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await open('#/network-tokens');
    await page.getByLabel('Network token id (tokenId)').fill('t-1');
    await page.getByRole('button', { name: 'Look up network token' }).click();
    await page.getByText('•••• 4242').waitFor();
    await expect(page.locator('main .badge').first().textContent()).resolves.toBe('ACTIVE');
    await expect(page.getByText('yes, sealed (never shown here)').isVisible()).resolves.toBe(true);
    expect(await page.content()).not.toContain(tokenPan);
    expect(requested.filter((url) => url.includes('token-pan'))).toEqual([]);

    // Card art as a data: URL is drawn (img-src 'self' data:).
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 200"><rect width="320" height="200" rx="16" fill="#0b5cad"/><rect x="24" y="70" width="48" height="36" rx="6" fill="#e8c15a"/><text x="24" y="170" fill="#fff" font-size="28" font-family="sans-serif">DEMO BANK</text></svg>';
    const cardArt = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
    const art = await postJson(`${service.simulatorUrl}/_sim/token-updates?wait=true`, {
      tokenId: 't-art',
      merchantId: 'm-1',
      changes: { tokenState: 'ACTIVE', tokenLastDigits: '7777', cardArt: { image: cardArt } },
    });
    expect(art.status).toBe(200);
    for (let i = 0; i < 100 && (await fetch(`${service.url}/v1/network-tokens/t-art`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    await open('#/network-tokens/t-art');
    const image = page.getByRole('img', { name: 'Card art of token t-art' });
    await image.waitFor();
    // Decoded and drawn: a CSP block or a broken data: URL would leave it at naturalWidth 0.
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('img.card-art');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    await page.screenshot({ path: artifact('network-token.png'), fullPage: true });
  });

  it('loading, empty and error states: unknown token (404), card without tokens, no answer', async () => {
    await open('#/tokens/vc-404');
    await page.getByRole('alert').getByText('Not found').waitFor();
    await open('#/cards/card-none');
    await page.getByText('No tokens are known for card card-none.').waitFor();
    await open('#/operations/op-404');
    await page.getByRole('alert').getByText('No operation op-404.').waitFor();
    // A 4xx body is shown with its code and fields.
    await open('#/jobs/job-404');
    await page.getByRole('alert').first().waitFor();
    await page.route('**/v1/tokens/vc-1', (route) => route.abort('connectionrefused'));
    await open('#/tokens/vc-1');
    await page.getByRole('alert').getByText('No answer from the service').waitFor();
    await page.unroute('**/v1/tokens/vc-1');
    await page.getByRole('alert').getByRole('button', { name: 'Try again' }).first().click();
    await page.getByRole('heading', { name: 'Details' }).waitFor();
    await page.locator('.facts').first().waitFor();
  });

  it('at 375 px nothing scrolls sideways, and every main page has no serious or critical axe violation', async () => {
    const job = await postJson(`${service.url}/v1/lcm-jobs`, { action: 'SUSPEND', reason: 'portfolio review', issuerCardRefIds: ['card-2', 'card-9'] });
    expect(job.status).toBe(202);
    const sub = await postJson(`${service.url}/v1/event-subscriptions`, { url: 'http://127.0.0.1:9/events/demo', eventTypes: ['token.state_changed'] });
    expect(sub.status).toBe(201);
    const lastOperation = ((await (await fetch(`${service.url}/v1/tokens/vc-1`)).json()) as { lastOperationId: string }).lastOperationId;
    const pages: Array<[string, string, string]> = [
      ['cards', '#/cards/card-1', '.items .item'],
      ['token', '#/tokens/vc-1', '.timeline .event'],
      ['operation', `#/operations/${lastOperation}`, '.operation'],
      ['network token', '#/network-tokens/t-1', '.facts'],
      ['job', `#/jobs/${job.body.jobId as string}`, '.counts'],
      ['subscriptions', '#/subscriptions', '.items .item'],
    ];
    for (const [label, hash, ready] of pages) {
      await page.setViewportSize({ width: 1100, height: 800 });
      await open(hash);
      await page.locator(ready).first().waitFor();
      await page.waitForFunction(() => !document.querySelector('[aria-busy="true"], .loading'));
      await expectAccessible(label);
      // The same page at 375 × 800: it reflows, nothing scrolls sideways.
      await page.setViewportSize({ width: 375, height: 800 });
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth <= 375 ? 'fits' : `${label}: scrollWidth ${scrollWidth} > 375`).toBe('fits');
      if (label === 'token') await page.screenshot({ path: artifact('mobile-token.png'), fullPage: true });
    }
    // The job page's cancel, confirmed: the job is CANCELLED.
    await open(`#/jobs/${job.body.jobId as string}`);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('main .badge', { hasText: 'CANCELLED' }).first().waitFor();
    // The delete dialog too.
    await open('#/tokens/vc-1');
    await page.getByRole('button', { name: 'Delete token' }).click();
    await page.getByRole('dialog').waitFor();
    await expectAccessible('delete dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  });
});
