// The live dashboard: draw from the figures embedded in the page, then poll
// /api/analytics and redraw in place. A failed poll keeps the last figures and says so.
(function () {
  "use strict";
  var script = document.getElementById("dashboard-script");
  var endpoint = script.getAttribute("data-endpoint");
  var refreshMs = parseInt(script.getAttribute("data-refresh-ms"), 10) || 3000;
  var C = window.CatalogCharts;

  function field(name) { return document.querySelector("[data-field=" + name + "]"); }
  function setText(name, text) { var n = field(name); if (n) n.textContent = text; }

  function minuteLabel(iso) {
    var d = new Date(iso);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function seconds(v) {
    if (v === null || v === undefined) return "–";
    return v < 60 ? C.format(v) + " s" : C.format(v / 60) + " min";
  }

  function lagText(p) {
    if (!p || !p.known) return ["unknown", p && p.reason ? p.reason : ""];
    var g = (p.groups || {}).indexer;
    if (!g) return ["unknown", "no indexer group yet"];
    var age = g.oldest_unacked_age_s;
    return [(g.lag_events || 0) + " events", age ? "oldest waiting " + seconds(age)
                                                  : "caught up" + (p.publish_lag_events ?
                                                    ", " + p.publish_lag_events + " unpublished" : "")];
  }

  function draw(data) {
    setText("total", C.format(data.total));
    setText("added_last_hour", C.format(data.added_last_hour));
    setText("generated_at", new Date(data.generated_at).toLocaleTimeString());
    var t = data.time_to_active_s;
    setText("time_to_active", t.count ? [seconds(t.p50), seconds(t.p90), seconds(t.p99)].join(" / ")
                                      : "–");
    var lag = lagText(data.pipeline);
    setText("lag", lag[0]);
    setText("lag_note", lag[1]);

    C.columns(document.getElementById("chart-per-minute"), data.added_per_minute.map(function (b) {
      return { label: minuteLabel(b.t), value: b.count, title: minuteLabel(b.t) };
    }), { labelEvery: 10 });
    C.bars(document.getElementById("chart-status"), Object.keys(data.status).map(function (k) {
      return { label: k, value: data.status[k], cls: "status-" + k };
    }));
    C.bars(document.getElementById("chart-categories"), data.top_categories.map(function (b) {
      return { label: b.category, value: b.count };
    }));
    C.columns(document.getElementById("chart-prices"), data.price_distribution.map(function (b) {
      return { label: b.range, value: b.count };
    }), { height: 200 });
    C.bars(document.getElementById("chart-activation"), ["p50", "p90", "p99"].map(function (p) {
      return { label: p + " (" + C.format(t.count) + " products)", value: t[p] };
    }), { unit: "s" });
    document.body.setAttribute("data-dashboard-total", String(data.total));
  }

  function refresh() {
    if (document.hidden) { setTimeout(refresh, refreshMs); return; }  // no polling in a background tab
    fetch(endpoint, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      })
      .then(function (res) {
        if (!res.ok) throw new Error(res.body.error || "analytics unavailable");
        draw(res.body);
        setText("state", "");
      })
      .catch(function (err) { setText("state", "· " + err.message + " (showing last figures)"); })
      .finally(function () { setTimeout(refresh, refreshMs); });
  }

  draw(JSON.parse(document.getElementById("analytics-initial").textContent));
  setTimeout(refresh, refreshMs);
})();
