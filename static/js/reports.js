/* Charts of the SLA reports, drawn with the vendored Chart.js from JSON that the page
 * embeds with Django's json_script (no inline script). Readable without colour: series
 * differ by shape (bars, a dashed line with diamond points, hatched bars), every bar and
 * point carries its value as a label, and the same figures are in the table below.
 */
(function () {
  "use strict";

  var INK = "#1b1f24";
  var ACCENT = "#3b4fc4";
  var SECOND = "#8a5a00";

  function hatch(colour) {
    // Diagonal stripes: a pattern, so the series is told apart without its colour.
    var tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    var ctx = tile.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, 8, 8);
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(0, 8);
    ctx.lineTo(8, 0);
    ctx.moveTo(-2, 2);
    ctx.lineTo(2, -2);
    ctx.moveTo(6, 10);
    ctx.lineTo(10, 6);
    ctx.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  // Writes each value next to its bar or point.
  var valueLabels = {
    id: "valueLabels",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      var horizontal = chart.options.indexAxis === "y";
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillStyle = INK;
      chart.data.datasets.forEach(function (dataset, i) {
        var meta = chart.getDatasetMeta(i);
        if (meta.hidden) {
          return;
        }
        meta.data.forEach(function (element, index) {
          var value = dataset.data[index];
          if (value === null || value === undefined) {
            return;
          }
          var position = element.tooltipPosition();
          if (horizontal) {
            ctx.textAlign = "left";
            ctx.textBaseline = "middle";
            ctx.fillText(String(value), position.x + 4, position.y);
          } else {
            ctx.textAlign = "center";
            ctx.textBaseline = "bottom";
            ctx.fillText(String(value), position.x, position.y - 4);
          }
        });
      });
      ctx.restore();
    },
  };

  function dataset(series, index) {
    var colour = index === 0 ? ACCENT : SECOND;
    if (series.style === "line") {
      return {
        type: "line",
        label: series.label,
        data: series.data,
        borderColor: SECOND,
        backgroundColor: SECOND,
        borderDash: [6, 4],
        pointStyle: "rectRot",
        pointRadius: 5,
        order: 0,
      };
    }
    return {
      type: "bar",
      label: series.label,
      data: series.data,
      backgroundColor: series.style === "hatched" ? hatch(colour) : colour,
      borderColor: colour,
      borderWidth: 1,
      order: 1,
    };
  }

  // The unit of the value axis ("hours", "instances"), the meaning of the other.
  function axisTitle(text) {
    return { display: !!text, text: text || "", color: INK };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var horizontal = spec.type === "steps";
    if (horizontal) {
      // One band per step (set from script: the page has no inline styles).
      canvas.parentNode.style.height = Math.max(160, 44 * spec.labels.length + 70) + "px";
    }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: spec.series.map(dataset) },
      plugins: [valueLabels],
      options: {
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        maintainAspectRatio: false,
        layout: { padding: { top: 20, right: 40 } },
        plugins: {
          legend: { labels: { usePointStyle: true, color: INK } },
        },
        scales: {
          x: {
            beginAtZero: true,
            ticks: { color: INK },
            title: axisTitle(horizontal ? spec.unit : spec.category),
          },
          y: {
            beginAtZero: true,
            ticks: { color: INK, precision: 0 },
            title: axisTitle(horizontal ? spec.category : spec.unit),
          },
        },
      },
    });
  }

  function init() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
