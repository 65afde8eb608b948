/* Charts of the ranking, monitoring and analysis pages, drawn with the local ECharts build.
   Each chart is a <div data-chart="bar|line|map|radar"> followed by its data in
   <script type="application/json" id="ID-data">. The page stays readable without this file:
   every chart has the same figures in a table. Nothing is loaded from outside the site. */
"use strict";

(function () {
  var PALETTE = ["#b3261e", "#1a5fb4", "#26a269", "#c64600", "#613583", "#5e5c64"];

  function dataOf(node) {
    var source = document.getElementById(node.id + "-data");
    return source ? JSON.parse(source.textContent) : {};
  }

  function base() {
    return { animation: false, color: PALETTE, tooltip: {} };
  }

  function bar(node, data) {
    var option = base();
    option.tooltip = { trigger: "axis" };
    option.grid = { left: 10, right: 10, top: 20, bottom: 10, containLabel: true };
    option.xAxis = { type: "category", data: data.labels, axisLabel: { rotate: 45, interval: 0 } };
    option.yAxis = { type: "value" };
    option.series = [{ name: node.getAttribute("data-series"), type: "bar", data: data.values }];
    return option;
  }

  function line(node, data) {
    var option = bar(node, data);
    option.xAxis.axisLabel = { rotate: 45 };
    if (data.series) {  // several lines: [{name, values}], with a legend
      option.legend = { bottom: 0, data: data.series.map(function (s) { return s.name; }) };
      option.grid.bottom = 30;
      option.series = data.series.map(function (s) {
        return { name: s.name, type: "line", data: s.values, connectNulls: false };
      });
      return option;
    }
    option.series = [{ name: node.getAttribute("data-series"), type: "line", data: data.values, connectNulls: false }];
    return option;
  }

  function radar(node, data) {
    var option = base();
    option.legend = { bottom: 0, data: data.series.map(function (s) { return s.name; }) };
    option.radar = { indicator: data.indicators, radius: "62%" };
    option.series = [{ type: "radar", data: data.series }];
    return option;
  }

  function map(node, data) {
    var values = data.map.map(function (d) { return d.value; });
    var option = base();
    option.tooltip = { trigger: "item" };
    option.visualMap = {
      min: values.length ? Math.floor(Math.min.apply(null, values)) : 0,
      max: values.length ? Math.ceil(Math.max.apply(null, values)) : 100,
      left: 0, bottom: 0, calculable: true,
      inRange: { color: ["#b3261e", "#f6d365", "#26a269"] },
    };
    option.series = [{ name: node.getAttribute("data-series"), type: "map", map: "beijing", roam: false, data: data.map }];
    return option;
  }

  var KINDS = { bar: bar, line: line, radar: radar, map: map };

  function draw(node, option) {
    var chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption(option);
    node.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function render(node) {
    var kind = node.getAttribute("data-chart");
    var data = dataOf(node);
    if (!KINDS[kind]) { return; }
    if (kind !== "map") { draw(node, KINDS[kind](node, data)); return; }
    var geo = node.getAttribute("data-geo");
    if (window.echarts.getMap("beijing")) { draw(node, map(node, data)); return; }
    fetch(geo, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (json) {
        window.echarts.registerMap("beijing", json);
        draw(node, map(node, data));
      })
      .catch(function () { node.setAttribute("data-drawn", "failed"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.echarts) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), render);
  });
})();
