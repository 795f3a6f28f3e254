/* Cell renderers for dash-ag-grid (community edition has no sparklines): drawn as inline SVG, no network. */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.Sparkline = function (props) {
  var values = Array.isArray(props.value) ? props.value : [];
  if (!values.length) {
    return null;
  }
  var w = 110, h = 26, n = values.length;
  var max = Math.max.apply(null, values) || 1;
  var points = values.map(function (v, i) {
    var x = n === 1 ? w / 2 : 1 + (i * (w - 2)) / (n - 1);
    var y = h - 2 - (v / max) * (h - 4);
    return x.toFixed(1) + "," + y.toFixed(1);
  }).join(" ");
  return React.createElement(
    "svg",
    {width: w, height: h, viewBox: "0 0 " + w + " " + h, role: "img", "aria-label": values.join(", "),
     className: "sparkline"},
    React.createElement("polyline", {points: points, fill: "none", stroke: "#0072B2", strokeWidth: 1.5})
  );
};

dagcomponentfuncs.RuleFlag = function (props) {
  var breach = props.data && props.data.breach;
  return React.createElement("span", {className: breach ? "badge bg-danger" : "badge bg-success-subtle text-success"},
    props.value);
};

// A cell that opens something (a district page, a facility's details), by mouse and by keyboard: the value is shown
// as a link; a click anywhere in the cell, or Enter/Space on the focused cell, fires the grid's cellClicked, which
// the page's callback turns into the same action as a click on the map. cellRendererParams.href ("{id}" → row id)
// is the link's target for "open in new tab" and for screen readers.
dagcomponentfuncs.OpenLink = function (props) {
  var params = props.colDef && props.colDef.cellRendererParams ? props.colDef.cellRendererParams : {};
  var id = props.node && props.node.id != null ? String(props.node.id) : "";
  var cell = props.eGridCell;
  if (cell && !cell.__arogyaOpenLink) {
    cell.__arogyaOpenLink = true;
    cell.addEventListener("keydown", function (event) {
      if ((event.key === "Enter" || event.key === " ") && event.target === cell) {
        event.preventDefault();
        cell.dispatchEvent(new MouseEvent("click", {bubbles: true, cancelable: true, view: window}));
      }
    });
  }
  return React.createElement("a", {
    href: (params.href || "#").replace("{id}", encodeURIComponent(id)),
    className: "grid-link",
    tabIndex: -1,
    onClick: function (event) {
      if (!(event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1)) {
        event.preventDefault();  // the grid's cellClicked does the opening, inside the app
      }
    }
  }, props.valueFormatted != null ? props.valueFormatted : props.value);
};
