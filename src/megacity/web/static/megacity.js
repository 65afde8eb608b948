/* Megacity pages: light progressive enhancement. Every page works without this file. */
"use strict";

(function () {
  function $(id) { return document.getElementById(id); }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  /* Streets follow the chosen district, and a chosen street sets its district. */
  function linkDistrictAndStreet(district, street) {
    function filter() {
      var code = district.value;
      Array.prototype.forEach.call(street.querySelectorAll("optgroup"), function (group) {
        var show = !code || group.getAttribute("data-district") === code;
        group.hidden = !show;
        Array.prototype.forEach.call(group.children, function (o) { o.disabled = !show; });
      });
      var chosen = street.selectedOptions[0];
      if (chosen && chosen.disabled) { street.value = ""; }
    }
    district.addEventListener("change", filter);
    street.addEventListener("change", function () {
      var chosen = street.selectedOptions[0];
      var group = chosen && chosen.parentElement;
      if (group && group.tagName === "OPTGROUP") { district.value = group.getAttribute("data-district"); filter(); }
    });
    filter();
  }

  /* A search box above the long category select. */
  function categoryFilter(input, select) {
    input.hidden = false;
    input.addEventListener("input", function () {
      var q = input.value.trim();
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var any = false;
        var groupHit = q && group.label.indexOf(q) >= 0;
        Array.prototype.forEach.call(group.children, function (o) {
          var hit = !q || groupHit || o.textContent.indexOf(q) >= 0;
          o.hidden = !hit;
          any = any || hit;
        });
        group.hidden = !any;
      });
    });
  }

  function showSuggestion(box, data) {
    box.textContent = "";
    if (!data.confident) {
      box.appendChild(el("span", box.getAttribute("data-none")));
      box.className = "hint";
      return;
    }
    box.className = "hint ok";
    box.appendChild(el("span", box.getAttribute("data-label")));
    box.appendChild(el("strong", data.unit_name));
    var extra = " (" + data.reason + ", " + Math.round(data.confidence * 100) + "%";
    if (data.urgency) { extra += "; " + box.getAttribute("data-urgency") + data.urgency; }
    box.appendChild(el("small", extra + ")", "muted"));
  }

  function suggestions(form) {
    var box = $("suggestion");
    var url = form.getAttribute("data-suggest-url");
    function ask() {
      var params = new URLSearchParams({
        category_code: form.elements["category_code"].value,
        street_code: form.elements["street_code"].value,
        district_code: form.elements["district_code"].value,
      });
      if (!form.elements["category_code"].value) { box.textContent = ""; return; }
      fetch(url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { showSuggestion(box, data); } })
        .catch(function () { /* the server still dispatches: nothing to show */ });
    }
    ["category_code", "street_code", "district_code"].forEach(function (name) {
      form.elements[name].addEventListener("change", ask);
    });
    ask();
  }

  function showDuplicates(box, items) {
    box.textContent = "";
    box.hidden = items.length === 0;
    if (!items.length) { return; }
    box.appendChild(el("strong", box.getAttribute("data-title")));
    var list = el("ul");
    items.forEach(function (item) {
      var li = el("li");
      var link = el("a", item.id);
      link.href = "/tickets/" + encodeURIComponent(item.id);
      link.target = "_blank";
      li.appendChild(link);
      li.appendChild(el("span", " " + item.title + " · " + item.received_at + " · " + item.status + " — " + item.why));
      list.appendChild(li);
    });
    box.appendChild(list);
  }

  function duplicates(form) {
    var box = $("duplicates");
    var url = form.getAttribute("data-duplicates-url");
    var latest = 0;  /* answers may come back out of order: only the latest question counts */
    var check = debounce(function () {
      var asked = ++latest;
      var body = { phone: form.elements["phone"].value, street_code: form.elements["street_code"].value, title: form.elements["title"].value };
      var digits = body.phone.replace(/\D/g, "").length;
      if (digits < 7 && !(body.street_code && body.title)) { showDuplicates(box, []); return; }
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify(body),
      })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { if (asked === latest) { showDuplicates(box, data.items || []); } })
        .catch(function () { /* a warning only */ });
    }, 400);
    ["phone", "street_code", "title"].forEach(function (name) {
      form.elements[name].addEventListener("change", check);
      form.elements[name].addEventListener("input", check);
    });
  }

  function knowledge(form, results) {
    form.addEventListener("submit", function (event) {
      var q = form.elements["q"].value.trim();
      if (!q) { return; }
      event.preventDefault();
      fetch("/pages/api/knowledge?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          results.textContent = "";
          if (!data.items.length) { results.appendChild(el("p", results.getAttribute("data-empty"))); return; }
          data.items.forEach(function (item) {
            var card = el("details", null, "kb");
            card.appendChild(el("summary", item.question));
            card.appendChild(el("p", item.answer));
            card.appendChild(el("p", results.getAttribute("data-source") + " " + item.source, "muted"));
            results.appendChild(card);
          });
          results.querySelector("details").open = true;
        })
        .catch(function () { form.submit(); });
    });
  }

  function districtChart(node) {
    var data = JSON.parse($("district-chart-data").textContent);
    if (!window.echarts) { return; }
    var chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      color: ["#b3261e", "#1a5fb4"],
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [node.getAttribute("data-today"), node.getAttribute("data-month")] },
      grid: { left: 10, right: 10, top: 36, bottom: 10, containLabel: true },
      xAxis: { type: "category", data: data.districts, axisLabel: { rotate: 45, interval: 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: node.getAttribute("data-today"), type: "bar", data: data.today },
        { name: node.getAttribute("data-month"), type: "bar", data: data.month },
      ],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var intake = $("intake");
    if (intake) {
      linkDistrictAndStreet(intake.elements["district_code"], intake.elements["street_code"]);
      categoryFilter($("category-filter"), intake.elements["category_code"]);
      suggestions(intake);
      duplicates(intake);
    }
    if ($("kb-form") && $("kb-results")) { knowledge($("kb-form"), $("kb-results")); }
    if ($("district-chart")) { districtChart($("district-chart")); }
  });
})();
