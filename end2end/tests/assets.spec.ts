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

test('a page whose code is loaded lazily fetches its own hashed chunks, and they come like the rest', async ({ page, request, ready, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, 'without JavaScript no code is loaded');
  // The dashboard's code is not in the first bundle: the browser fetches its pieces.
  const fetched = new Set<string>();
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (/^\/pkg\/.+\.(wasm|js)$/.test(path) && !/^\/pkg\/roster\./.test(path)) fetched.add(path);
  });
  const response = await page.goto('/admin');
  expect(response?.status()).toBe(200);
  await ready(page);
  expect(fetched.size).toBeGreaterThan(1);
  expect([...fetched].some((path) => path.endsWith('.js'))).toBe(true);
  for (const path of fetched) {
    // Content-hashed names: a new release never meets an old chunk in a browser's cache.
    expect(path).toMatch(/^\/pkg\/[A-Za-z0-9_]+\.[A-Za-z0-9_-]{16,}\.(js|wasm)$/);
    const asset = await request.get(path, { headers: { 'accept-encoding': 'br' } });
    expect(asset.status()).toBe(200);
    expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers()['content-encoding']).toBe('br');
  }
});
