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
