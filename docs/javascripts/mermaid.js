// Mermaid on demand, and the question map's renderer.
//
// Mermaid (3.5 MB) is served by this site and loaded only when a page draws a diagram:
// - `window.mermaid` starts as a small stand-in. Material's diagram support finds it, so it never
//   fetches Mermaid from a CDN; the stand-in's first render() loads the real script, replays
//   Material's settings on it and hands over (the real script replaces the global).
// - `cnnqaMap.toSvg(source)` draws the question map. The cnnqa MkDocs plugin calls it in
//   headless Chromium at build time, so the map arrives with the page as SVG; on a site built
//   without a browser, the map arrives as source and is drawn here, once, in the reader's browser.
(function () {
  "use strict";
  const here = document.currentScript && document.currentScript.src;
  const MIN_SCALE = 0.75; // the map's labels are 16 px: never draw them below 12 px
  let loading = null;
  let sequence = 0;

  function loadMermaid() {
    if (window.mermaid && !window.mermaid.cnnqaStandIn) return Promise.resolve(window.mermaid);
    loading ||= new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = new URL("../assets/vendor/mermaid/mermaid.min.js", here).href;
      tag.onload = () => resolve(window.mermaid);
      tag.onerror = () => reject(new Error(`cnnqa: could not load ${tag.src}`));
      document.head.appendChild(tag);
    });
    return loading;
  }

  if (typeof window.mermaid === "undefined") {
    let settings = null;
    let replayed = null;
    window.mermaid = {
      cnnqaStandIn: true,
      initialize(config) {
        settings = config;
      },
      async render(...args) {
        const real = await loadMermaid();
        if (!replayed) {
          replayed = true;
          if (settings) real.initialize(settings);
        }
        return real.render(...args);
      },
    };
  }

  // The SVG Mermaid draws, without its embedded stylesheet (the site's CSS styles the map in both
  // palettes), scaling down with the page but never below MIN_SCALE: below that, its box scrolls.
  async function toSvg(source) {
    const mermaid = await loadMermaid();
    const { svg } = await mermaid.render(`cnnqa-map-${sequence++}`, source);
    const holder = document.createElement("div");
    holder.innerHTML = svg;
    const root = holder.querySelector("svg");
    root.querySelectorAll("style").forEach((style) => style.remove());
    const width = root.viewBox.baseVal.width;
    root.setAttribute("width", "100%");
    root.setAttribute("style", `max-width: ${width}px; min-width: ${Math.ceil(width * MIN_SCALE)}px`);
    root.classList.add("cnnqa-map__svg");
    return holder.innerHTML;
  }

  window.cnnqaMap = { toSvg, MIN_SCALE };

  // On a narrow screen the outline takes the map's place (the stylesheet hides the map there);
  // on a wide one it stays folded under the map once the map is drawn.
  const narrow = window.matchMedia("(max-width: 44.9375em)");
  function placeOutline() {
    for (const map of document.querySelectorAll(".cnnqa-map")) {
      const drawn = map.querySelector("svg") !== null;
      for (const outline of map.parentElement.querySelectorAll("details.cnnqa-outline")) {
        outline.open = narrow.matches || !drawn;
      }
    }
  }
  narrow.addEventListener("change", placeOutline);

  // Material's instant navigation follows HTML links only; the map's links are SVG ones. Follow
  // them the same way (a history entry, then Material's location$), so that a click on the map
  // keeps the page's state and needs no full reload.
  function instant() {
    const config = document.getElementById("__config");
    return window.location$ && config && JSON.parse(config.textContent).features.includes("navigation.instant");
  }
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target instanceof Element && event.target.closest(".cnnqa-map svg a");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      if (!instant()) return;
      const url = new URL(link.getAttribute("href") || link.getAttribute("xlink:href"), location.href);
      if (url.origin !== location.origin) return;
      event.preventDefault();
      event.stopPropagation();
      history.pushState(null, "", url);
      window.location$.next(url);
    },
    true,
  );

  // Pages built without a browser carry the map's source: draw it here, once.
  // (At build time this script runs on a blank page, without Material's document$.)
  if (typeof document$ === "undefined") return;
  document$.subscribe(() => {
    placeOutline();
    for (const map of document.querySelectorAll(".cnnqa-map")) {
      const source = map.querySelector("pre.cnnqa-map__source");
      if (!source) continue;
      toSvg(source.textContent).then((svg) => {
        map.innerHTML = svg;
        placeOutline();
      });
    }
  });
})();
