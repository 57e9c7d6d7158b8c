// The release build's assets: content-hashed names, kept for a year, precompressed.
import { test, expect } from './fixtures';

test('scripts, wasm and styles have hashed names, are kept a year and come precompressed', async ({ page, request }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  // Signed in: never stored.
  expect(response?.headers()['cache-control']).toBe('no-store');
  const assets = await page
    .locator('link[rel="modulepreload"], link[rel="preload"][href$=".wasm"], link[rel="stylesheet"]')
    .evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''));
  expect(assets).toHaveLength(3);
  for (const href of assets) {
    expect(href).toMatch(/^\/pkg\/roster\.[A-Za-z0-9_-]{16,}\.(js|wasm|css)$/);
    for (const encoding of ['br', 'gzip']) {
      const asset = await request.get(href, { headers: { 'accept-encoding': encoding } });
      expect(asset.status()).toBe(200);
      expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers()['content-encoding']).toBe(encoding);
    }
  }
});

test('the first page loads at most 200 KB of wasm, brotli-compressed as sent', async ({ page, request }) => {
  await page.goto('/');
  const wasm = await page.locator('link[rel="preload"][href$=".wasm"]').getAttribute('href');
  expect(wasm).toBeTruthy();
  const asset = await request.get(wasm ?? '', { headers: { 'accept-encoding': 'br' } });
  expect(asset.headers()['content-encoding']).toBe('br');
  // The bytes as they cross the wire (Playwright hands the body back unpacked).
  const sent = Number(asset.headers()['content-length']);
  console.log(`the first wasm bundle: ${(sent / 1024).toFixed(1)} KB brotli`);
  expect(sent).toBeGreaterThan(0);
  expect(sent).toBeLessThanOrEqual(200 * 1024);
});
