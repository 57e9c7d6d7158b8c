// The page budget on the release build, as a desktop browser sees it: Largest
// Contentful Paint ≤ 1.0 s and Cumulative Layout Shift ≤ 0.01 on the directory and a
// search page, read from Chromium's own Performance API (the same entries Lighthouse
// and web-vitals read). Desktop settings as Lighthouse's: a 1350×940 window, 40 ms
// round trips, 10 Mbit/s down, no CPU slowdown; a fresh cache for every load. Each page
// is loaded three times and the median judged, so one slow moment on a busy test
// machine does not decide it. The figures are printed (docs/PERFORMANCE.md keeps them).
// Only with JavaScript: the Performance API is read by script, and the page's HTML
// and styles are the same without it.
import { test, expect } from './fixtures';

test.use({ viewport: { width: 1350, height: 940 } });

type Vitals = { lcp: number; cls: number };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

for (const [name, path] of [
  ['the directory', '/'],
  ['a search page', '/?q=an'],
] as const) {
  test(`${name} paints its largest content within 1.0 s and does not shift`, async ({ page, context, ready }, testInfo) => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 40,
      downloadThroughput: (10 * 1024 * 1024) / 8,
      uploadThroughput: (10 * 1024 * 1024) / 8,
    });
    const runs: Vitals[] = [];
    for (let run = 0; run < 3; run++) {
      await page.goto(path);
      await expect(page.locator('main')).toBeVisible();
      // Wait until the page is settled: loaded, and (with JavaScript) hydrated.
      await page.waitForLoadState('load');
      await ready(page);
      const vitals = await page.evaluate(
        () =>
          new Promise<Vitals>((resolve) => {
            let lcp = 0;
            let cls = 0;
            new PerformanceObserver((list) => {
              for (const entry of list.getEntries()) lcp = Math.max(lcp, entry.startTime);
            }).observe({ type: 'largest-contentful-paint', buffered: true });
            new PerformanceObserver((list) => {
              for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) {
                if (!entry.hadRecentInput) cls += entry.value;
              }
            }).observe({ type: 'layout-shift', buffered: true });
            // Buffered entries arrive in the observers' first callbacks.
            setTimeout(() => resolve({ lcp, cls }), 100);
          }),
      );
      runs.push(vitals);
    }
    const lcp = median(runs.map((r) => r.lcp));
    const cls = Math.max(...runs.map((r) => r.cls));
    console.log(
      `${testInfo.project.name}: ${name} (${path}): LCP median ${lcp.toFixed(0)} ms ` +
        `(${runs.map((r) => r.lcp.toFixed(0)).join(', ')}), CLS at most ${cls.toFixed(4)}`,
    );
    expect(lcp).toBeGreaterThan(0);
    expect(lcp).toBeLessThanOrEqual(1000);
    expect(cls).toBeLessThanOrEqual(0.01);
  });
}
