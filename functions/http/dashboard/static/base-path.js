/*
 * Stage-prefix shim for custom interfaces, injected by the platform only when it runs under a prefix
 * (API Gateway stage, e.g. "/prod"). Interfaces written for "/" (the seed's fetch('/api/...')) keep
 * working: root-relative URLs passed to fetch(), XMLHttpRequest, and found in links, forms, images and
 * scripts get the prefix. URLs that already carry it, relative URLs and other origins are left alone.
 */
(() => {
  "use strict";
  const script = document.currentScript;
  const base = (script && script.dataset.base) || "";
  if (!base) return;

  function prefixed(url) {
    if (typeof url !== "string" || !url.startsWith("/") || url.startsWith("//")) return url;
    if (url === base || url.startsWith(base + "/") || url.startsWith(base + "?")) return url;
    return base + url;
  }

  function sameOriginPath(url) {
    try {
      const parsed = new URL(url, location.href);
      if (parsed.origin !== location.origin) return null;
      return parsed.pathname + parsed.search + parsed.hash;
    } catch (_) {
      return null;
    }
  }

  const originalFetch = window.fetch;
  window.fetch = function (input, init) {
    if (typeof input === "string") {
      input = prefixed(input);
    } else if (input instanceof URL) {
      const path = sameOriginPath(input.href);
      if (path !== null && prefixed(path) !== path) input = new URL(prefixed(path), location.origin);
    } else if (input instanceof Request) {
      const path = sameOriginPath(input.url);
      if (path !== null && prefixed(path) !== path) input = new Request(location.origin + prefixed(path), input);
    }
    return originalFetch.call(this, input, init);
  };

  const originalOpen = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    return originalOpen.call(this, method, prefixed(typeof url === "string" ? url : String(url)), ...rest);
  };

  const ATTRIBUTES = [["a", "href"], ["link", "href"], ["form", "action"], ["img", "src"], ["script", "src"], ["iframe", "src"]];

  function rewrite(root) {
    for (const [tag, attribute] of ATTRIBUTES) {
      for (const node of root.querySelectorAll(tag + "[" + attribute + '^="/"]')) {
        const value = node.getAttribute(attribute);
        const fixed = prefixed(value);
        if (fixed !== value) node.setAttribute(attribute, fixed);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => rewrite(document));
  // Links clicked before DOMContentLoaded, or added later by the page's own script.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href^="/"]');
    if (link) {
      const value = link.getAttribute("href");
      const fixed = prefixed(value);
      if (fixed !== value) link.setAttribute("href", fixed);
    }
  }, true);
})();
