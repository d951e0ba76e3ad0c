// Charts of the operations centre, drawn from the data tables beside them (the tables stay: they are what screen
// readers and people without JavaScript use). A table with data-chart="bar" feeds the canvas in the next
// .ioc-chart element; data-chart-columns lists which value columns (0 = the first <td>) become data sets.
// window.MotCuaIoc.refresh(table) redraws after the table's numbers changed (ioc-today.js).
(function () {
  "use strict";
  var lib = window.MotCuaCharts;
  var COLOURS = ["#1d5fa8", "#b3261e", "#1f6b35", "#8a5a00"];
  var charts = [];

  function value(cell) {
    var digits = (cell.textContent || "").replace(/[^0-9]/g, "");
    return digits ? parseInt(digits, 10) : 0;
  }
  function read(table) {
    var columns = (table.getAttribute("data-chart-columns") || "0").split(",").map(Number);
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    var labels = [];
    var sets = columns.map(function (c, i) {
      var head = heads[c + 1];
      return { label: table.getAttribute("data-chart-label") || (head ? head.textContent.trim() : ""),
               data: [], backgroundColor: COLOURS[i % COLOURS.length] };
    });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var th = row.querySelector("th");
      var tds = row.querySelectorAll("td");
      if (!th || !tds.length) { return; }
      labels.push(th.textContent.trim());
      columns.forEach(function (c, i) { sets[i].data.push(tds[c] ? value(tds[c]) : 0); });
    });
    return { labels: labels, datasets: sets };
  }
  function draw(table) {
    var box = table.closest(".ioc-chart-pair");
    var canvas = box && box.querySelector(".ioc-chart canvas");
    if (!canvas) { return; }
    var chart = new lib.Chart(canvas, {
      type: "bar",
      data: read(table),
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    charts.push({ table: table, chart: chart });
  }

  window.MotCuaIoc = {
    refresh: function (table) {
      charts.forEach(function (entry) {
        if (entry.table === table) { entry.chart.data = read(table); entry.chart.update(); }
      });
    }
  };
  if (!lib || !lib.Chart) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("table[data-chart]"), draw);
})();
