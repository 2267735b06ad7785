// hotpixels report page: sorting and filtering the defects table, zooming the sensor map, the
// exposure control (which defects show at a time and ISO, and the --at command line), and the
// details of a defect on click. Errors are recorded on the root element for tests.
(function () {
  "use strict";
  var root = document.documentElement;
  window.addEventListener("error", function (e) {
    root.dataset.errors = (root.dataset.errors || "") + (e.message || "error") + "\n";
  });

  // An exposure time: 30, 30s, 0.5, 1/250. NaN when not one.
  function parseTime(text) {
    text = text.trim().replace(/s$/, "");
    var parts = text.split("/");
    if (parts.length === 2) return Number(parts[0]) / Number(parts[1]);
    return text === "" ? NaN : Number(text);
  }

  function sortTable(table, th) {
    var key = th.dataset.sort, numeric = th.dataset.type === "number";
    var up = !th.classList.contains("sorted-up");
    table.querySelectorAll("th").forEach(function (h) {
      h.classList.remove("sorted-up", "sorted-down");
    });
    th.classList.add(up ? "sorted-up" : "sorted-down");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.dataset[key], y = b.dataset[key], c;
      if (numeric) {
        x = x === "" ? Infinity : Number(x);
        y = y === "" ? Infinity : Number(y);
        c = x - y;
      } else {
        c = x < y ? -1 : x > y ? 1 : 0;
      }
      return up ? c : -c;
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
  }

  function setupMap(svg) {
    var w = Number(svg.dataset.width), h = Number(svg.dataset.height);
    var view = [0, 0, w, h];
    function apply() { svg.setAttribute("viewBox", view.join(" ")); }
    function point(e) {
      var r = svg.getBoundingClientRect();
      var scale = Math.max(view[2] / r.width, view[3] / r.height);
      var ox = (r.width * scale - view[2]) / 2, oy = (r.height * scale - view[3]) / 2;
      return [view[0] + (e.clientX - r.left) * scale - ox, view[1] + (e.clientY - r.top) * scale - oy, scale];
    }
    svg.addEventListener("wheel", function (e) {
      e.preventDefault();
      var p = point(e), f = e.deltaY < 0 ? 0.8 : 1.25;
      var nw = Math.min(w, Math.max(8, view[2] * f)), nh = nw * h / w;
      view = [p[0] - (p[0] - view[0]) * nw / view[2], p[1] - (p[1] - view[1]) * nh / view[3], nw, nh];
      apply();
    }, { passive: false });
    var drag = null;
    svg.addEventListener("mousedown", function (e) { drag = point(e); });
    window.addEventListener("mouseup", function () { drag = null; });
    svg.addEventListener("mousemove", function (e) {
      if (!drag) return;
      var p = point(e);
      view[0] -= p[0] - drag[0];
      view[1] -= p[1] - drag[1];
      apply();
    });
    svg.addEventListener("dblclick", function () { view = [0, 0, w, h]; apply(); });
    return {
      focus: function (x, y) {
        var nw = Math.min(w, Math.max(64, w / 16)), nh = nw * h / w;
        view = [x - nw / 2, y - nh / 2, nw, nh];
        apply();
      }
    };
  }

  function setupCamera(section) {
    var table = section.querySelector("table.defects");
    var svg = section.querySelector("figure.map svg");
    var map = svg ? setupMap(svg) : null;
    var marks = {};
    section.querySelectorAll("circle.mark").forEach(function (m) { marks[m.dataset.index] = m; });
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);

    table.querySelectorAll("th[data-sort]").forEach(function (th) {
      th.addEventListener("click", function () { sortTable(table, th); });
    });

    function select(index) {
      section.querySelectorAll(".selected").forEach(function (e) { e.classList.remove("selected"); });
      var row = section.querySelector("tr.defect[data-index='" + index + "']");
      var mark = marks[index];
      var detail = section.querySelector("article.detail[data-index='" + index + "']");
      [row, mark, detail].forEach(function (e) { if (e) e.classList.add("selected"); });
      if (map && row) map.focus(Number(row.dataset.x), Number(row.dataset.y));
      if (detail) detail.scrollIntoView({ block: "nearest" });
    }
    rows.forEach(function (r) {
      r.addEventListener("click", function () { select(r.dataset.index); });
    });
    Object.keys(marks).forEach(function (k) {
      marks[k].addEventListener("click", function (e) { e.stopPropagation(); select(k); });
    });

    // Kind filter.
    var boxes = section.querySelectorAll(".kinds input[name=kind]");
    function filterKinds() {
      var shown = {};
      boxes.forEach(function (b) { shown[b.value] = b.checked; });
      rows.forEach(function (r) {
        var hide = !shown[r.dataset.kind];
        r.classList.toggle("hidden-kind", hide);
        var m = marks[r.dataset.index];
        if (m) m.classList.toggle("hidden-kind", hide);
      });
    }
    boxes.forEach(function (b) { b.addEventListener("change", filterKinds); });

    // Exposure control.
    var form = section.querySelector("form.exposure");
    var time = form.querySelector("input[name=time]"), iso = form.querySelector("input[name=iso]");
    var out = form.querySelector("output.shown"), command = form.querySelector(".at-command code");
    function atExposure() {
      var t = parseTime(time.value), i = Number(iso.value.trim());
      if (!(t > 0) || !(i > 0) || Math.round(i) !== i) {
        rows.forEach(function (r) {
          r.classList.remove("hidden-at");
          var m = marks[r.dataset.index];
          if (m) m.classList.remove("hidden-at");
        });
        section.removeAttribute("data-shown");
        out.textContent = rows.length + " defects (give a time and an ISO to see which show then)";
        command.textContent = "";
        return;
      }
      var e = t * i / 100, shown = 0;
      rows.forEach(function (r) {
        var from = r.dataset.from;
        var hide = from !== "" && Number(from) > e;
        r.classList.toggle("hidden-at", hide);
        var m = marks[r.dataset.index];
        if (m) m.classList.toggle("hidden-at", hide);
        if (!hide) shown += 1;
      });
      section.dataset.shown = shown;
      var at = time.value.trim().replace(/s$/, "") + "s@" + i;
      out.textContent = shown + " of " + rows.length + " defects show at " + time.value.trim() +
        " s, ISO " + i + " (" + (Math.round(e * 1000) / 1000) + " s at ISO 100)";
      command.textContent = "hotpixels export --format dcraw " + form.dataset.report +
        " --at " + at + " -o bad.txt";
    }
    time.addEventListener("input", atExposure);
    iso.addEventListener("input", atExposure);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    return { at: function (t, i) { time.value = t; iso.value = i; atExposure(); } };
  }

  var cameras = [];
  document.querySelectorAll("section.camera").forEach(function (s) { cameras.push(setupCamera(s)); });
  // #at=30s@1600 sets every camera's exposure control.
  var m = /(?:^#|&)at=([^&@]+)@(\d+)/.exec(decodeURIComponent(location.hash));
  if (m) cameras.forEach(function (c) { c.at(m[1].replace(/s$/, ""), m[2]); });
  root.dataset.loadMs = Math.round(performance.now());
  root.dataset.ready = "1";
})();
