/* The district review report's figures: drawn with Plotly as still plots, their WebGL canvases then copied into
   images so that the PDF prints exactly what was drawn. When every figure is done and the fonts are loaded,
   <html data-report-ready="1"> tells the renderer (and a test) that the page can be printed. */
(function () {
  "use strict";
  var root = document.documentElement;

  function figureFailed(el) {
    el.className += " figure-failed";
    el.textContent = document.body.getAttribute("data-map-failed") || "";
    root.setAttribute("data-report-failed", String(Number(root.getAttribute("data-report-failed") || 0) + 1));
  }

  function freezeCanvases(el) {
    // A WebGL canvas (the map) may print blank: swap each for an image of itself. The SVG layers (text, legend,
    // colour bar) stay in the page, so they keep the page's fonts (Devanagari included).
    el.querySelectorAll("canvas").forEach(function (canvas) {
      var img = document.createElement("img");
      var box = window.getComputedStyle(canvas);
      img.src = canvas.toDataURL("image/png");
      img.alt = "";
      img.className = "frozen-canvas";
      ["position", "top", "left", "width", "height", "zIndex"].forEach(function (k) { img.style[k] = box[k]; });
      canvas.parentNode.insertBefore(img, canvas);
      canvas.style.display = "none";
    });
  }

  function draw(el, figure) {
    var layout = Object.assign({}, figure.layout || {}, {width: el.clientWidth || 700});
    // staticPlot: no hover or zoom, and the map keeps its drawing buffer, so it can be copied.
    var config = {staticPlot: true, displayModeBar: false, responsive: false};
    return window.Plotly.newPlot(el, figure.data || [], layout, config).then(function () {
      freezeCanvases(el);
    }).catch(function (err) {
      if (window.console) { console.warn("report figure failed", err); }
      window.Plotly.purge(el);
      figureFailed(el);
    });
  }

  function start() {
    var button = document.getElementById("report-print");
    if (button) { button.addEventListener("click", function () { window.print(); }); }
    var figures = {};
    try {
      figures = JSON.parse(document.getElementById("report-figures").textContent || "{}");
    } catch (err) {
      figures = {};
    }
    // Fonts first: text the figures draw while a font is still loading can stay in a fallback font without
    // Devanagari glyphs.
    var fonts = Promise.resolve();
    if (document.fonts && document.fonts.load) {
      fonts = Promise.all(["400", "600", "700"].map(function (weight) {
        return document.fonts.load(weight + " 16px 'Noto Sans Devanagari'", "अa1");
      })).catch(function () { return null; }).then(function () { return document.fonts.ready; });
    }
    fonts.then(function () {
      var pending = [];
      document.querySelectorAll("[data-figure]").forEach(function (el) {
        var figure = figures[el.getAttribute("data-figure")];
        if (!figure || !window.Plotly) { figureFailed(el); return; }
        pending.push(draw(el, figure));
      });
      return Promise.all(pending);
    }).then(function () {
      root.setAttribute("data-report-ready", "1");
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
