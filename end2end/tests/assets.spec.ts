// The release build's assets: content-hashed names, kept for a year, precompressed.
import { test, expect } from './fixtures';

test('scripts, wasm and styles have hashed names, are kept a year and come precompressed', async ({ page, request }) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['cache-control']).toBe('private, no-cache');
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
