// The explorer page (docs/explorer.md): pick a convolution, transposed convolution or pooling
// layer's settings, watch its window move, read its output size, parameters and MACs.
//
// Every size, and every refusal, comes from window.cnnqaShapes (docs/javascripts/shapes.js, a
// port of cnnqa/shapes.py with its exact error messages); this file only draws and counts.
// The settings live in the page's address, kept up to date with history.replaceState, so a
// copied link reproduces the view. Its keys are the site's notation, ?mode=conv&H=7&W=7&F=3&S=1&
// P=0&D=1&C=3&K=8 (A: output padding; ceil=1: ceil_mode), and never a lower-case h: Material's
// search highlighting reads ?h= as a word to highlight on the page. Material's document$ fires on the
// first load and after every instant navigation: the explorer sets itself up when its root
// element is on the page, and stops its animation when it is not.
(function () {
  "use strict";
  if (typeof document$ === "undefined") return;

  const MODES = {
    conv: "Convolution",
    transposed: "Transposed convolution",
    max: "Max pooling",
    avg: "Average pooling",
  };
  // Integer settings: query key, label, bounds and default.
  const NUMBERS = {
    h: { label: "Input height H", min: 1, max: 32, value: 7 },
    w: { label: "Input width W", min: 1, max: 32, value: 7 },
    k: { label: "Kernel size F", min: 1, max: 7, value: 3 },
    s: { label: "Stride S", min: 1, max: 4, value: 1 },
    d: { label: "Dilation D", min: 1, max: 3, value: 1 },
    cin: { label: "Input channels C", min: 1, max: 512, value: 3 },
    cout: { label: "Output channels K", min: 1, max: 512, value: 8 },
    op: { label: "Output padding A", min: 0, max: 3, value: 0 },
  };
  const PADDINGS = ["0", "1", "2", "3", "same", "valid"];
  // The address's name for each setting (the site's notation).
  const URL_KEYS = { h: "H", w: "W", k: "F", s: "S", p: "P", d: "D", cin: "C", cout: "K", op: "A" };
  const DEFAULTS = { mode: "conv", p: 0, ceil: false };
  for (const [key, spec] of Object.entries(NUMBERS)) DEFAULTS[key] = spec.value;

  // Which settings a mode has (the others are hidden and left out of the address).
  function applies(key, mode) {
    switch (key) {
      case "d":
        return mode !== "avg"; // AvgPool2d has no dilation
      case "cout":
        return mode === "conv" || mode === "transposed"; // pooling keeps the channels
      case "op":
        return mode === "transposed";
      case "ceil":
        return mode === "max" || mode === "avg";
      default:
        return true;
    }
  }
  const isPool = (mode) => mode === "max" || mode === "avg";

  const U = 10; // one cell in the drawing's own units
  const STEP_MS = 700;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const numberFormat = new Intl.NumberFormat("en-US");

  let active = null; // the explorer on the current page, if any

  document$.subscribe(() => {
    if (active) active.stop();
    active = null;
    const root = document.querySelector(".cnnqa-explorer");
    if (root) active = mount(root);
  });

  // ---- settings <-> address ----------------------------------------------------------------------

  function clampInt(text, spec) {
    if (!/^\s*-?\d+\s*$/.test(String(text))) return null;
    return Math.min(spec.max, Math.max(spec.min, parseInt(text, 10)));
  }

  function parsePadding(text) {
    const value = String(text).trim().toLowerCase();
    if (value === "same" || value === "valid") return value;
    const number = clampInt(value, { min: 0, max: 3 });
    return number === null ? null : number;
  }

  function readQuery(search) {
    const query = new URLSearchParams(search);
    const state = { ...DEFAULTS };
    if (MODES[query.get("mode")]) state.mode = query.get("mode");
    for (const [key, spec] of Object.entries(NUMBERS)) {
      if (!query.has(URL_KEYS[key])) continue;
      const number = clampInt(query.get(URL_KEYS[key]), spec);
      if (number !== null) state[key] = number;
    }
    if (query.has(URL_KEYS.p)) {
      const padding = parsePadding(query.get(URL_KEYS.p));
      if (padding !== null) state.p = padding;
    }
    if (query.has("ceil")) state.ceil = ["1", "true", "yes", "on"].includes(query.get("ceil").toLowerCase());
    return state;
  }

  function writeQuery(state) {
    const query = new URLSearchParams();
    query.set("mode", state.mode);
    for (const key of ["h", "w", "k", "s", "p", "d", "cin", "cout", "op"]) {
      if (applies(key, state.mode)) query.set(URL_KEYS[key], String(state[key]));
    }
    if (applies("ceil", state.mode)) query.set("ceil", state.ceil ? "1" : "0");
    return `?${query}`;
  }

  // ---- the arithmetic: sizes and refusals from shapes.js, counts from them ------------------------

  function compute(state) {
    const shapes = window.cnnqaShapes;
    if (!shapes) throw new Error("cnnqa: the arithmetic script (shapes.js) did not load");
    const { mode, h, w, k, s, p, cin, cout, op } = state;
    const d = applies("d", mode) ? state.d : 1;
    const r = { mode, h, w, k, s, p, d, cin, cout, op, ceil: state.ceil };
    r.eff = shapes.effective_kernel_size(k, d);
    if (mode === "conv") {
      r.outH = shapes.conv_output_size(h, k, s, p, d);
      r.outW = shapes.conv_output_size(w, k, s, p, d);
      [r.before, r.after] = shapes.conv_padding(k, p, s, d);
    } else if (mode === "transposed") {
      r.outH = shapes.conv_transpose_output_size(h, k, s, p, op, d);
      r.outW = shapes.conv_transpose_output_size(w, k, s, p, op, d);
      // Where the stamps reach before the output is cropped by P (and extended by A).
      r.fullH = shapes.conv_transpose_output_size(h, k, s, 0, 0, d);
      r.fullW = shapes.conv_transpose_output_size(w, k, s, 0, 0, d);
    } else {
      r.outH = shapes.pool_output_size(h, k, s, p, d, state.ceil);
      r.outW = shapes.pool_output_size(w, k, s, p, d, state.ceil);
      r.before = r.after = p;
    }
    r.channels = isPool(mode) ? cin : cout;
    if (isPool(mode)) {
      r.params = 0;
      r.macs = 0;
    } else {
      r.params = cout * cin * k * k + cout;
      r.macs = mode === "conv" ? cout * cin * k * k * r.outH * r.outW : cin * cout * k * k * h * w;
    }
    r.steps = mode === "transposed" ? h * w : r.outH * r.outW;
    return r;
  }

  // ---- the page's controls ------------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children);
    return node;
  }

  function buildControls(form) {
    const modes = el("fieldset", { class: "cnnqa-explorer__modes" }, el("legend", { text: "Layer" }));
    for (const [value, label] of Object.entries(MODES)) {
      const id = `cnnqa-explorer-mode-${value}`;
      modes.append(
        el("span", { class: "cnnqa-explorer__mode" },
          el("input", { type: "radio", name: "mode", id, value }),
          el("label", { for: id, text: label })),
      );
    }
    form.append(modes);
    const fields = el("div", { class: "cnnqa-explorer__fields" });
    const field = (key, label, control) =>
      el("div", { class: "cnnqa-explorer__field", "data-key": key },
        el("label", { for: control.id, text: label }), control);
    for (const key of ["h", "w", "k", "s"]) fields.append(numberField(key));
    const padding = el("select", { id: "cnnqa-explorer-p", name: "p" });
    for (const value of PADDINGS) padding.append(el("option", { value, text: value }));
    fields.append(field("p", "Padding P", padding));
    for (const key of ["d", "op", "cin", "cout"]) fields.append(numberField(key));
    const ceil = el("input", { type: "checkbox", id: "cnnqa-explorer-ceil", name: "ceil" });
    fields.append(
      el("div", { class: "cnnqa-explorer__field cnnqa-explorer__field--check", "data-key": "ceil" },
        ceil, el("label", { for: ceil.id, text: "ceil_mode" })),
    );
    form.append(fields);

    function numberField(key) {
      const spec = NUMBERS[key];
      const input = el("input", {
        type: "number", id: `cnnqa-explorer-${key}`, name: key, min: spec.min, max: spec.max, step: 1,
        inputmode: "numeric", required: true,
      });
      return field(key, spec.label, input);
    }
  }

  function showState(form, state) {
    form.elements.mode.value = state.mode;
    for (const key of Object.keys(NUMBERS)) form.elements[key].value = String(state[key]);
    form.elements.p.value = String(state.p);
    form.elements.ceil.checked = state.ceil;
    for (const field of form.querySelectorAll(".cnnqa-explorer__field")) {
      field.hidden = !applies(field.dataset.key, state.mode);
    }
    // "same" and "valid" are convolution's paddings only.
    for (const option of form.elements.p.options) {
      if (option.value === "same" || option.value === "valid") option.disabled = state.mode !== "conv";
    }
  }

  // ---- the drawing ---------------------------------------------------------------------------------

  // Rows (or columns) that some window reads, or some stamp writes: i*S + t*D.
  function reached(count, k, s, d, extent) {
    const hit = new Array(extent).fill(false);
    for (let i = 0; i < count; i++) {
      for (let t = 0; t < k; t++) if (i * s + t * d < extent) hit[i * s + t * d] = true;
    }
    return hit;
  }

  function gridSvg(rows, cols, cellClass, cellPx, label) {
    const parts = [];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const cls = cellClass(r, c);
        const x = c * U;
        const y = r * U;
        if (cls.includes("cnnqa-padding")) {
          parts.push(`<rect class="${cls}" x="${x + 1}" y="${y + 1}" width="${U - 2}" height="${U - 2}" rx="0.8"/>`);
        } else {
          parts.push(`<rect class="${cls}" x="${x}" y="${y}" width="${U}" height="${U}"/>`);
        }
        if (cls.includes("cnnqa-unread")) {
          parts.push(`<path class="cnnqa-unread-mark" d="M${x + 2.5} ${y + U - 2.5}L${x + U - 2.5} ${y + 2.5}"/>`);
        }
      }
    }
    const width = cols * U;
    const height = rows * U;
    return (
      `<svg xmlns="${SVG_NS}" viewBox="-2 -2 ${width + 4} ${height + 4}" width="${(cols * U + 4) * cellPx / U}" ` +
      `height="${(rows * U + 4) * cellPx / U}" role="img" aria-label="${label}">` +
      `<g class="cnnqa-explorer__cells">${parts.join("")}</g><g class="cnnqa-explorer__overlay"></g></svg>`
    );
  }

  // The kernel's taps (dilated by D) and, around them, the span they cover.
  function windowGroup(k, d, eff) {
    const g = document.createElementNS(SVG_NS, "g");
    g.setAttribute("class", "cnnqa-window");
    if (d > 1) {
      const span = document.createElementNS(SVG_NS, "rect");
      span.setAttribute("class", "cnnqa-window__span");
      for (const [name, value] of Object.entries({ x: 0, y: 0, width: eff * U, height: eff * U })) span.setAttribute(name, value);
      g.append(span);
    }
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const tap = document.createElementNS(SVG_NS, "rect");
        tap.setAttribute("class", "cnnqa-window__tap");
        tap.setAttribute("x", b * d * U + 1.5);
        tap.setAttribute("y", a * d * U + 1.5);
        tap.setAttribute("width", U - 3);
        tap.setAttribute("height", U - 3);
        g.append(tap);
      }
    }
    return g;
  }

  function currentCell() {
    const rect = document.createElementNS(SVG_NS, "rect");
    rect.setAttribute("class", "cnnqa-current");
    rect.setAttribute("width", U);
    rect.setAttribute("height", U);
    return rect;
  }

  function draw(view, r) {
    let input;
    let output;
    if (r.mode === "transposed") {
      // The input is read pixel by pixel; each stamps the kernel onto the full output, which is
      // then cropped by P on each side (the ring drawn as padding) and extended by A at the end.
      const rows = Math.max(r.fullH, r.p + r.outH);
      const cols = Math.max(r.fullW, r.p + r.outW);
      const rowHit = reached(r.h, r.k, r.s, r.d, rows);
      const colHit = reached(r.w, r.k, r.s, r.d, cols);
      input = { rows: r.h, cols: r.w, cls: () => "cnnqa-input" };
      output = {
        rows,
        cols,
        cls: (y, x) => {
          const inside = y >= r.p && y < r.p + r.outH && x >= r.p && x < r.p + r.outW;
          if (!inside) return "cnnqa-padding";
          return rowHit[y] && colHit[x] ? "cnnqa-output" : "cnnqa-output cnnqa-unread";
        },
      };
    } else {
      // The padded input (a ceil_mode window may reach past it: drawn as padding too).
      const rows = Math.max(r.before + r.h + r.after, (r.outH - 1) * r.s + r.eff);
      const cols = Math.max(r.before + r.w + r.after, (r.outW - 1) * r.s + r.eff);
      const rowHit = reached(r.outH, r.k, r.s, r.d, rows);
      const colHit = reached(r.outW, r.k, r.s, r.d, cols);
      input = {
        rows,
        cols,
        cls: (y, x) => {
          const inside = y >= r.before && y < r.before + r.h && x >= r.before && x < r.before + r.w;
          if (!inside) return "cnnqa-padding";
          return rowHit[y] && colHit[x] ? "cnnqa-input" : "cnnqa-input cnnqa-unread";
        },
      };
      output = { rows: r.outH, cols: r.outW, cls: () => "cnnqa-output" };
    }
    const largest = Math.max(input.rows, input.cols, output.rows, output.cols);
    const cellPx = Math.max(6, Math.min(26, Math.floor(300 / largest)));
    const inLabel = r.mode === "transposed" ? "Input" : "Input with its padding";
    view.inputBox.innerHTML = gridSvg(input.rows, input.cols, input.cls, cellPx, inLabel);
    view.outputBox.innerHTML = gridSvg(output.rows, output.cols, output.cls, cellPx, "Output");
    const inOverlay = view.inputBox.querySelector(".cnnqa-explorer__overlay");
    const outOverlay = view.outputBox.querySelector(".cnnqa-explorer__overlay");
    view.window = windowGroup(r.k, r.d, r.eff);
    view.current = currentCell();
    if (r.mode === "transposed") {
      inOverlay.append(view.current);
      outOverlay.append(view.window);
    } else {
      inOverlay.append(view.window);
      outOverlay.append(view.current);
    }
    view.outputCells = r.mode === "transposed" ? [] : [...view.outputBox.querySelectorAll(".cnnqa-output")];
    const padded = r.mode === "transposed" ? "" : ` (padded: ${input.rows} × ${input.cols})`;
    view.inputCaption.textContent = `Input ${r.h} × ${r.w}${padded}`;
    const cropped = r.mode === "transposed" ? ` (the stamps cover ${r.fullH} × ${r.fullW}; P crops, A extends)` : "";
    view.outputCaption.textContent = `Output ${r.outH} × ${r.outW}${cropped}`;
    view.legend.replaceWith((view.legend = legend(r.mode)));
  }

  // "2 to 4", with a true minus sign for the padding's negative indices.
  const signed = (n) => (n < 0 ? `−${-n}` : String(n));
  const range = (first, span) => (span === 1 ? signed(first) : `${signed(first)} to ${signed(first + span - 1)}`);

  function showStep(view, r, step) {
    const windowName = isPool(r.mode) ? "pooling window" : "kernel";
    if (r.mode === "transposed") {
      const i = Math.floor(step / r.w);
      const j = step % r.w;
      view.current.setAttribute("x", j * U);
      view.current.setAttribute("y", i * U);
      view.window.setAttribute("transform", `translate(${j * r.s * U} ${i * r.s * U})`);
      const rows = range(i * r.s - r.p, r.eff);
      const cols = range(j * r.s - r.p, r.eff);
      view.status.textContent =
        `Step ${step + 1} of ${r.steps}: input pixel (${i}, ${j}) stamps the kernel onto output rows ${rows}, ` +
        `columns ${cols}${r.p ? " (rows and columns outside the output are cropped away)" : ""}.`;
    } else {
      const i = Math.floor(step / r.outW);
      const j = step % r.outW;
      view.current.setAttribute("x", j * U);
      view.current.setAttribute("y", i * U);
      view.window.setAttribute("transform", `translate(${j * r.s * U} ${i * r.s * U})`);
      view.outputCells.forEach((cell, n) => cell.classList.toggle("cnnqa-written", n < step));
      const rows = range(i * r.s - r.before, r.eff);
      const cols = range(j * r.s - r.before, r.eff);
      view.status.textContent =
        `Step ${step + 1} of ${r.steps}: output (${i}, ${j}) from the ${windowName} over input rows ${rows}, ` +
        `columns ${cols}${r.before || r.after || r.ceil ? " (those outside the input are padding)" : ""}.`;
    }
    view.root.dataset.step = String(step);
  }

  // ---- the report ----------------------------------------------------------------------------------

  const num = (n) => numberFormat.format(n);

  function report(view, r) {
    const set = (name, value, text) => {
      const dd = view.report.querySelector(`[data-report="${name}"]`);
      dd.dataset.value = String(value);
      dd.textContent = text;
    };
    set("output", `${r.outH}x${r.outW}x${r.channels}`, `${r.outH} × ${r.outW} × ${r.channels}`);
    view.report.querySelector('[data-report="output"]').dataset.height = String(r.outH);
    view.report.querySelector('[data-report="output"]').dataset.width = String(r.outW);
    view.report.querySelector('[data-report="output"]').dataset.channels = String(r.channels);
    if (isPool(r.mode)) {
      set("params", 0, "0 (pooling learns nothing)");
      set("macs", 0, "0 (no weights; each output compares or averages its window)");
    } else {
      const { cin: C, cout: K, k: F } = r;
      set("params", r.params, `${num(r.params)} = K·C·F·F + K = ${K}·${C}·${F}·${F} + ${K}`);
      if (r.mode === "conv") {
        set("macs", r.macs, `${num(r.macs)} = K·C·F·F·H′·W′ = ${K}·${C}·${F}·${F}·${r.outH}·${r.outW}`);
      } else {
        set("macs", r.macs, `${num(r.macs)} = C·K·F·F·H·W = ${C}·${K}·${F}·${F}·${r.h}·${r.w} (one per kernel tap stamped)`);
      }
    }
  }

  function formulas(r) {
    const lines = [];
    const rows = [
      ["H", r.h, r.outH],
      ["W", r.w, r.outW],
    ];
    const D = r.d;
    if (r.mode === "transposed") {
      lines.push(String.raw`H' = (H - 1)\,S - 2P + D\,(F - 1) + A + 1`);
      for (const [name, size, out] of rows) {
        lines.push(
          String.raw`${name}' = (${size} - 1)\cdot ${r.s} - 2\cdot ${r.p} + ${D}\cdot(${r.k} - 1) + ${r.op} + 1 = ${out}`,
        );
      }
      return { lines, note: "A (output padding) adds rows at the far end; it must be smaller than S or D." };
    }
    const [open, close] = r.ceil && isPool(r.mode) ? [String.raw`\left\lceil`, String.raw`\right\rceil`] : [String.raw`\left\lfloor`, String.raw`\right\rfloor`];
    let note = "";
    let padSym = "2P";
    let padNum = `2\\cdot ${r.p}`;
    if (r.mode === "conv" && typeof r.p === "string") {
      if (r.p === "same") {
        padSym = String.raw`P_{\text{before}} + P_{\text{after}}`;
        padNum = `${r.before} + ${r.after}`;
        lines.push(String.raw`P = \text{same} \;\Rightarrow\; (P_{\text{before}}, P_{\text{after}}) = (${r.before}, ${r.after})`);
      } else {
        padNum = `2\\cdot 0`;
        lines.push(String.raw`P = \text{valid} \;\Rightarrow\; P = 0`);
      }
    }
    lines.push(String.raw`H' = ${open} \dfrac{H + ${padSym} - D\,(F - 1) - 1}{S} ${close} + 1`);
    for (const [name, size, out] of rows) {
      lines.push(String.raw`${name}' = ${open} \dfrac{${size} + ${padNum} - ${D}\cdot(${r.k} - 1) - 1}{${r.s}} ${close} + 1 = ${out}`);
    }
    if (isPool(r.mode)) {
      note = r.ceil
        ? "With ceil_mode, PyTorch still drops a last window that would start beyond the input and its left padding, so the result may be one less than the ceiling gives."
        : "The padding may be at most half the window, P ≤ ⌊F/2⌋.";
    }
    return { lines, note };
  }

  function typeset(view, r) {
    const { lines, note } = formulas(r);
    view.formula.replaceChildren();
    for (const tex of lines) {
      const line = el("div", { class: "cnnqa-explorer__formula-line" });
      if (window.katex) window.katex.render(`\\displaystyle ${tex}`, line, { throwOnError: false });
      else line.textContent = tex;
      view.formula.append(line);
    }
    if (note) view.formula.append(el("p", { class: "cnnqa-explorer__note", text: note }));
  }

  // ---- the explorer ---------------------------------------------------------------------------------

  function mount(root) {
    root.replaceChildren();
    const form = el("form", { class: "cnnqa-explorer__controls", "aria-label": "Layer settings" });
    form.addEventListener("submit", (event) => event.preventDefault());
    buildControls(form);

    const error = el("div", { class: "cnnqa-explorer__error", role: "alert", hidden: true });
    const results = el("div", { class: "cnnqa-explorer__results" });
    const reportList = el("dl", { class: "cnnqa-explorer__report", "aria-live": "polite" });
    for (const [name, term] of [["output", "Output H′ × W′ × channels"], ["params", "Parameters (weights + bias)"], ["macs", "Multiply-accumulates"]]) {
      reportList.append(el("div", {}, el("dt", { text: term }), el("dd", { "data-report": name })));
    }
    const formula = el("div", { class: "cnnqa-explorer__formula", role: "group", "aria-label": "Output size formula" });
    const player = el("div", { class: "cnnqa-explorer__player" });
    const back = el("button", { type: "button", class: "md-button", "data-action": "back", "aria-label": "Step back", text: "◀ Back" });
    const play = el("button", { type: "button", class: "md-button md-button--primary", "data-action": "play", text: "Play" });
    const forward = el("button", { type: "button", class: "md-button", "data-action": "forward", "aria-label": "Step forward", text: "Forward ▶" });
    player.append(back, play, forward);
    const status = el("p", { class: "cnnqa-explorer__status" });
    const inputCaption = el("figcaption");
    const outputCaption = el("figcaption");
    const inputBox = el("div", { class: "cnnqa-explorer__grid" });
    const outputBox = el("div", { class: "cnnqa-explorer__grid" });
    const drawing = el("div", { class: "cnnqa-explorer__drawing" },
      el("figure", { class: "cnnqa-explorer__figure" }, inputBox, inputCaption),
      el("figure", { class: "cnnqa-explorer__figure" }, outputBox, outputCaption));
    const legendList = legend(DEFAULTS.mode); // redrawn with the drawing
    results.append(player, status, drawing, legendList, reportList, formula);
    root.append(form, error, results);

    const view = { root, inputBox, outputBox, inputCaption, outputCaption, status, report: reportList, formula, legend: legendList };
    let state = readQuery(location.search);
    let r = null;
    let step = 0;
    let timer = null;
    // Plays unless the reader asked for reduced motion; the button toggles this wish, which
    // outlives a refused setting (nothing to play) until the settings are allowed again.
    let wanted = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;

    function setPlaying(wish) {
      wanted = wish;
      const on = wish && r !== null;
      if (on && !timer) timer = setInterval(() => go(step + 1), STEP_MS);
      if (!on && timer) {
        clearInterval(timer);
        timer = null;
      }
      play.textContent = on ? "Pause" : "Play";
      root.dataset.playing = String(on);
    }

    function go(next) {
      if (!r) return;
      step = ((next % r.steps) + r.steps) % r.steps;
      showStep(view, r, step);
    }

    function update({ address = true } = {}) {
      showState(form, state);
      if (address) {
        const url = `${location.pathname}${writeQuery(state)}${location.hash}`;
        history.replaceState(history.state, "", url);
      }
      try {
        r = compute(state);
      } catch (failure) {
        r = null;
        setPlaying(wanted);
        error.textContent = failure.message;
        error.hidden = false;
        results.hidden = true;
        root.dataset.refused = "true";
        return;
      }
      error.hidden = true;
      error.textContent = "";
      results.hidden = false;
      delete root.dataset.refused;
      draw(view, r);
      report(view, r);
      typeset(view, r);
      step = 0;
      showStep(view, r, step);
      setPlaying(wanted);
    }

    function onEdit(event) {
      const target = event.target;
      const key = target.name;
      const before = JSON.stringify(state);
      if (key === "mode") {
        state.mode = target.value;
        if (state.mode !== "conv" && typeof state.p === "string") state.p = 0; // same/valid: convolution only
      } else if (key === "p") {
        state.p = parsePadding(target.value) ?? state.p;
      } else if (key === "ceil") {
        state.ceil = target.checked;
      } else if (NUMBERS[key]) {
        const number = clampInt(target.value, NUMBERS[key]);
        if (number === null) return; // half-typed: wait for a number
        if (event.type === "input" && String(number) !== target.value.trim()) return; // out of bounds while typing
        state[key] = number;
      } else {
        return;
      }
      if (JSON.stringify(state) !== before) update();
    }
    form.addEventListener("input", onEdit);
    form.addEventListener("change", (event) => {
      onEdit(event);
      showState(form, state); // an emptied or out-of-bounds box shows the value in use
    });
    back.addEventListener("click", () => {
      setPlaying(false);
      go(step - 1);
    });
    forward.addEventListener("click", () => {
      setPlaying(false);
      go(step + 1);
    });
    play.addEventListener("click", () => setPlaying(timer === null));

    update({ address: false });
    return { stop: () => setPlaying(false) };
  }

  // What each colour means, in the current mode's words.
  function legend(mode) {
    const transposed = mode === "transposed";
    const padding = { conv: "padding (zeros)", max: "padding (−∞: never the maximum)", avg: "padding (zeros, counted in the average)" };
    const items = transposed
      ? [
          ["cnnqa-input", "input pixel"],
          ["cnnqa-current", "input pixel being stamped"],
          ["cnnqa-window", "its kernel stamp on the output"],
          ["cnnqa-output", "output"],
          ["cnnqa-unread", "output no stamp reaches (bias only)"],
          ["cnnqa-padding", "cropped away by P"],
        ]
      : [
          ["cnnqa-input", "input pixel"],
          ["cnnqa-padding", padding[mode]],
          ["cnnqa-unread", "input pixel no window reads"],
          ["cnnqa-window", isPool(mode) ? "pooling window" : "kernel taps"],
          ["cnnqa-output", "output"],
          ["cnnqa-written", "output written"],
          ["cnnqa-current", "output being written"],
        ];
    const list = el("ul", { class: "cnnqa-explorer__legend" });
    for (const [cls, text] of items) {
      let shape;
      if (cls === "cnnqa-window") {
        shape = `<g class="cnnqa-window"><rect class="cnnqa-window__tap" x="1.5" y="1.5" width="7" height="7"/></g>`;
      } else if (cls === "cnnqa-padding") {
        shape = `<rect class="cnnqa-padding" x="1" y="1" width="8" height="8" rx="0.8"/>`;
      } else if (cls === "cnnqa-unread") {
        const under = transposed ? "cnnqa-output" : "cnnqa-input";
        shape = `<rect class="${under} cnnqa-unread" width="10" height="10"/><path class="cnnqa-unread-mark" d="M2.5 7.5L7.5 2.5"/>`;
      } else if (cls === "cnnqa-written") {
        shape = `<rect class="cnnqa-output cnnqa-written" width="10" height="10"/>`;
      } else {
        shape = `<rect class="${cls}" width="10" height="10"/>`;
      }
      const item = el("li");
      item.innerHTML = `<svg viewBox="-1 -1 12 12" width="16" height="16" aria-hidden="true">${shape}</svg>`;
      item.append(text);
      list.append(item);
    }
    return list;
  }
})();
