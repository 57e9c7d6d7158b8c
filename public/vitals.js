// Web vitals for the monitoring dashboard: LCP, INP, CLS, FCP and TTFB measured with
// the browser's PerformanceObserver, sent once per page view (when the page is hidden
// or left) with navigator.sendBeacon to /api/vitals, which checks and bounds them.
(() => {
  "use strict";
  if (!("PerformanceObserver" in window) || !navigator.sendBeacon) return;
  const supported = PerformanceObserver.supportedEntryTypes || [];
  const vitals = {};
  const observe = (type, record, options) => {
    if (!supported.includes(type)) return;
    new PerformanceObserver((list) => list.getEntries().forEach(record)).observe({
      type,
      buffered: true,
      ...options,
    });
  };

  observe("largest-contentful-paint", (entry) => {
    vitals.lcp = entry.startTime;
  });
  observe("paint", (entry) => {
    if (entry.name === "first-contentful-paint") vitals.fcp = entry.startTime;
  });

  // CLS: the largest burst of shifts (gaps under 1 s, at most 5 s long) not caused
  // by the person's own input.
  if (supported.includes("layout-shift")) vitals.cls = 0;
  let burst = 0;
  let burstFirst = 0;
  let burstLast = 0;
  observe("layout-shift", (entry) => {
    if (entry.hadRecentInput) return;
    if (burst && entry.startTime - burstLast < 1000 && entry.startTime - burstFirst < 5000) {
      burst += entry.value;
    } else {
      burst = entry.value;
      burstFirst = entry.startTime;
    }
    burstLast = entry.startTime;
    vitals.cls = Math.max(vitals.cls || 0, burst);
  });

  // INP: the slowest interaction's latency (from input to the next paint).
  const interaction = (entry) => {
    if (entry.interactionId || entry.entryType === "first-input") {
      vitals.inp = Math.max(vitals.inp || 0, entry.duration);
    }
  };
  observe("event", interaction, { durationThreshold: 16 });
  observe("first-input", interaction);

  const navigation = performance.getEntriesByType("navigation")[0];
  if (navigation) vitals.ttfb = Math.max(0, navigation.responseStart);

  let sent = false;
  const send = () => {
    if (sent) return;
    const report = {};
    for (const [name, value] of Object.entries(vitals)) {
      if (Number.isFinite(value) && value >= 0) {
        report[name] = name === "cls" ? Math.min(value, 10) : Math.min(value, 60000);
      }
    }
    if (Object.keys(report).length === 0) return;
    sent = true;
    navigator.sendBeacon(
      "/api/vitals",
      new Blob([JSON.stringify(report)], { type: "application/json" }),
    );
  };
  addEventListener(
    "visibilitychange",
    () => {
      if (document.visibilityState === "hidden") send();
    },
    { capture: true },
  );
  addEventListener("pagehide", send, { capture: true });
})();
