// Accessibility helpers that need the browser (no network, no inline script: the CSP allows only hashed scripts).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    arogya: {
        // A folded panel (the phone's menu or filter bar) and its button's aria-expanded, toggled together.
        toggle: function (nClicks, isOpen) {
            var open = !isOpen;
            return [open, open ? "true" : "false"];
        }
    }
});

(function () {
    "use strict";
    // <html lang> follows the page's language (the frame's outer element carries it), so screen readers pick the
    // right voice after in-app navigation too; the server sets it on the first load.
    function syncLang() {
        var page = document.querySelector(".page[lang]");
        if (page && document.documentElement.lang !== page.lang) {
            document.documentElement.lang = page.lang;
        }
    }
    function start() {
        syncLang();
        new MutationObserver(syncLang).observe(document.body, {childList: true, subtree: true});
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
    // The skip link moves keyboard focus into the content (a hash change alone only scrolls in some browsers).
    document.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a.skip-link");
        var main = document.getElementById("main");
        if (link && main) {
            event.preventDefault();
            main.focus();
            main.scrollIntoView();
        }
    });
})();

// "Table view": the data behind a chart as an HTML table, the chart's text alternative. A <details class="table-view"
// data-graph="<graph id>"> (dashboard/ui/chart_table.py) fills itself from the rendered Plotly figure when opened, and
// again after each redraw while open, so it always shows what the chart shows (Patch updates included).
(function () {
    "use strict";

    function strip(text) {
        return String(text == null ? "" : text).replace(/<br\s*\/?>/gi, " · ").replace(/<[^>]*>/g, "").trim();
    }
    function show(value) {
        if (value == null || value === "") {
            return "–";
        }
        if (typeof value === "number") {
            return isFinite(value) ? value.toLocaleString("en-IN", {maximumFractionDigits: 1}) : "–";
        }
        var s = strip(value);
        var iso = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}:\d{2}))?/.exec(s);
        return iso ? iso[3] + "-" + iso[2] + "-" + iso[1] + (iso[4] ? " " + iso[4] : "") : s;
    }
    function axisTitle(layout, axis) {
        var a = layout && layout[axis];
        var title = a && a.title;
        return strip(title && typeof title === "object" ? title.text : title);
    }
    function table(caption, header, rows) {
        var t = document.createElement("table");
        t.className = "table table-sm table-striped mb-2";
        if (caption) {
            var c = document.createElement("caption");
            c.textContent = caption;
            c.className = "caption-top";
            t.appendChild(c);
        }
        var head = t.createTHead().insertRow();
        header.forEach(function (h) {
            var th = document.createElement("th");
            th.scope = "col";
            th.textContent = h;
            head.appendChild(th);
        });
        var body = t.createTBody();
        rows.forEach(function (r) {
            var tr = body.insertRow();
            r.forEach(function (v, i) {
                var cell = i === 0 ? document.createElement("th") : document.createElement("td");
                if (i === 0) {
                    cell.scope = "row";
                }
                cell.textContent = show(v);
                tr.appendChild(cell);
            });
        });
        return t;
    }
    function build(details) {
        var holder = document.getElementById(details.dataset.graph);
        var gd = holder && (holder.classList.contains("js-plotly-plot") ? holder : holder.querySelector(".js-plotly-plot"));
        var out = details.querySelector(".table-view-body");
        if (!out) {
            return;
        }
        out.textContent = "";
        var nameLabel = details.dataset.name || "", valueLabel = details.dataset.value || "";
        var traces = gd && Array.isArray(gd.data) ? gd.data.filter(function (tr) {
            return tr.visible !== false && tr.hoverinfo !== "skip";
        }) : [];
        var cartesian = [], categories = [], index = {}, catTitle = "";
        traces.forEach(function (tr) {
            var type = tr.type || "scatter";
            var n, i, rows = [];
            if (type === "bar" || type === "scatter" || type === "scattergl") {
                var horizontal = tr.orientation === "h";
                var cats = (horizontal ? tr.y : tr.x) || [], vals = (horizontal ? tr.x : tr.y) || [];
                catTitle = catTitle || axisTitle(gd.layout, horizontal ? "yaxis" : "xaxis");
                var col = {name: strip(tr.name) || valueLabel, values: {}};
                for (i = 0; i < cats.length; i++) {
                    var key = String(cats[i]);
                    if (!(key in index)) {
                        index[key] = categories.length;
                        categories.push(cats[i]);
                    }
                    col.values[key] = vals[i];
                }
                cartesian.push(col);
            } else if (type === "heatmap") {
                var z = tr.z || [];
                for (i = 0; i < z.length; i++) {
                    for (n = 0; n < (z[i] || []).length; n++) {
                        var label = tr.text && tr.text[i] ? tr.text[i][n] : null;
                        rows.push([(tr.y || [])[i], (tr.x || [])[n], label != null ? label : z[i][n]]);
                    }
                }
                out.appendChild(table(strip(tr.name), [axisTitle(gd.layout, "yaxis") || nameLabel,
                    axisTitle(gd.layout, "xaxis") || nameLabel, valueLabel], rows));
            } else if (type === "pie") {
                (tr.labels || []).forEach(function (l, k) { rows.push([l, (tr.values || [])[k]]); });
                out.appendChild(table(strip(tr.name), [nameLabel, valueLabel], rows));
            } else {
                // Maps: one row per district or facility, from the hover text the chart shows.
                n = Math.max((tr.text || []).length, (tr.locations || []).length, (tr.lat || []).length);
                for (i = 0; i < n; i++) {
                    var text = Array.isArray(tr.text) ? tr.text[i] : (i === 0 ? tr.text : null);
                    var row = [text != null && text !== "" ? text : (tr.locations || [])[i]];
                    if (Array.isArray(tr.z)) {
                        row.push(tr.z[i]);
                    }
                    rows.push(row);
                }
                if (rows.length) {
                    var cols = Array.isArray(tr.z) ? [nameLabel, strip(tr.colorbar && tr.colorbar.title &&
                        tr.colorbar.title.text) || valueLabel] : [nameLabel];
                    out.appendChild(table(strip(tr.name), cols, rows));
                }
            }
        });
        if (cartesian.length) {
            var allDates = categories.length && categories.every(function (c) {
                return /^\d{4}-\d{2}-\d{2}/.test(String(c));
            });
            if (!catTitle && allDates) {
                catTitle = details.dataset.date || "";
            }
            var rows2 = categories.map(function (c) {
                return [c].concat(cartesian.map(function (col) { return col.values[String(c)]; }));
            });
            out.insertBefore(table("", [catTitle || nameLabel].concat(cartesian.map(function (c) { return c.name; })),
                rows2), out.firstChild);
        }
        if (!out.firstChild) {
            var p = document.createElement("p");
            p.className = "text-muted small mb-0";
            p.textContent = details.dataset.empty || "";
            out.appendChild(p);
        }
        if (gd && !gd.__arogyaTableView && typeof gd.on === "function") {
            gd.__arogyaTableView = true;
            gd.on("plotly_afterplot", function () {
                document.querySelectorAll('details.table-view[open]').forEach(function (d) {
                    if (d.dataset.graph === details.dataset.graph) {
                        build(d);
                    }
                });
            });
        }
    }
    document.addEventListener("toggle", function (event) {
        var details = event.target;
        if (details && details.matches && details.matches("details.table-view") && details.open) {
            build(details);
        }
    }, true);
})();
