// Islands whose code the browser loads when a page has them (lazy islands, built with
// `--split`): their chunks are hashed, kept a year and precompressed like the rest.
// Only with JavaScript: without it no code is loaded at all.
import { test, expect } from './fixtures';

test('a page whose code is loaded lazily fetches its own hashed chunks, and they come like the rest', async ({ page, request, ready }) => {
  // The dashboard's refresh is not in the first bundle: the browser fetches its pieces.
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
