// Small hand-drawn SVG charts: vertical columns and horizontal bars, each bar labelled
// with its number. No library, nothing fetched: the page stays self-contained.
(function (global) {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

  function el(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Draw at the element's own width so 12px text stays 12px whatever the layout.
  function widthOf(svg) {
    var w = Math.round(svg.getBoundingClientRect().width);
    return w > 100 ? w : 640;
  }

  function reset(svg, width, height) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  }

  function niceMax(max) {
    if (max <= 0) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(max)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= max) return steps[i] * p;
    return 10 * p;
  }

  function empty(svg, width, height, message) {
    svg.appendChild(el("text", { x: width / 2, y: height / 2, "class": "chart-empty",
                                 "text-anchor": "middle" }, message || "No data yet"));
  }

  // items: [{label, value, title?}]; opts: {height, labelEvery, color}
  function columns(svg, items, opts) {
    opts = opts || {};
    var W = widthOf(svg), H = opts.height || 220, left = 44, right = 24, top = 16, bottom = 30;
    reset(svg, W, H);
    svg.setAttribute("data-bars", String(items.length));
    var max = niceMax(Math.max.apply(null, items.map(function (d) { return d.value; }).concat([0])));
    var plotW = W - left - right, plotH = H - top - bottom;
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH - f * plotH;
      svg.appendChild(el("line", { x1: left, x2: W - right, y1: y, y2: y, "class": "grid" }));
      svg.appendChild(el("text", { x: left - 6, y: y + 4, "text-anchor": "end", "class": "axis" },
                         fmt.format(max * f)));
    });
    if (!items.length) return empty(svg, W, H);
    var slot = plotW / items.length, barW = Math.max(1, slot * 0.8);
    var every = opts.labelEvery || 1;
    items.forEach(function (d, i) {
      var h = max ? (d.value / max) * plotH : 0;
      var x = left + i * slot + (slot - barW) / 2, y = top + plotH - h;
      var bar = el("rect", { x: x, y: y, width: barW, height: Math.max(h, d.value ? 1 : 0),
                             "class": "bar", "data-value": d.value });
      bar.appendChild(el("title", {}, (d.title || d.label) + ": " + fmt.format(d.value)));
      svg.appendChild(bar);
      if (opts.valueLabels !== false && d.value && slot >= 18) {
        svg.appendChild(el("text", { x: x + barW / 2, y: y - 3, "text-anchor": "middle",
                                     "class": "value" }, fmt.format(d.value)));
      }
      if (i % every === 0) {
        svg.appendChild(el("text", { x: x + barW / 2, y: H - 10, "text-anchor": "middle",
                                     "class": "axis" }, d.label));
      }
    });
  }

  // items: [{label, value, cls?}]; opts: {unit}
  function bars(svg, items, opts) {
    opts = opts || {};
    var rowH = 26, W = widthOf(svg), left = 150, right = 70, top = 6;
    var H = Math.max(60, top * 2 + rowH * items.length);
    reset(svg, W, H);
    svg.setAttribute("data-bars", String(items.length));
    if (!items.length) return empty(svg, W, H);
    var max = Math.max.apply(null, items.map(function (d) { return d.value || 0; }).concat([0]));
    var plotW = W - left - right;
    items.forEach(function (d, i) {
      var y = top + i * rowH;
      var w = max ? ((d.value || 0) / max) * plotW : 0;
      svg.appendChild(el("text", { x: left - 8, y: y + rowH / 2 + 4, "text-anchor": "end",
                                   "class": "label" }, d.label));
      var bar = el("rect", { x: left, y: y + 4, width: Math.max(w, d.value ? 1 : 0),
                             height: rowH - 8, "class": "bar " + (d.cls || ""),
                             "data-value": d.value === null ? "" : d.value });
      bar.appendChild(el("title", {}, d.label + ": " + display(d.value, opts.unit)));
      svg.appendChild(bar);
      svg.appendChild(el("text", { x: left + w + 6, y: y + rowH / 2 + 4, "class": "value" },
                         display(d.value, opts.unit)));
    });
  }

  function display(value, unit) {
    if (value === null || value === undefined) return "–";
    return fmt.format(value) + (unit ? " " + unit : "");
  }

  global.CatalogCharts = { columns: columns, bars: bars, format: display };
})(window);
