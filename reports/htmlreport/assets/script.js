// netconform report: filters, sorting and the observation panel. The page reads fully without
// it; everything here only hides, orders or opens what is already on the page.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };

  // Run page: filter the checks by status, suite and label.
  var fStatus = $("f-status"), fSuite = $("f-suite"), fLabel = $("f-label");
  function filterChecks() {
    var st = fStatus.value, su = fSuite.value, lb = fLabel.value.trim().toLowerCase(), shown = 0;
    var rows = document.querySelectorAll("tr.check");
    rows.forEach(function (tr) {
      var labels = (tr.getAttribute("data-labels") || "").toLowerCase().split(" ");
      var ok = (!st || tr.getAttribute("data-status") === st) &&
        (!su || tr.getAttribute("data-suite") === su) &&
        (!lb || labels.some(function (l) { return l.indexOf(lb) === 0; }));
      tr.parentNode.hidden = !ok;
      tr.hidden = !ok;
      if (ok) { shown++; }
    });
    $("f-count").textContent = shown + " of " + rows.length + " checks shown";
  }
  if (fStatus) {
    [fStatus, fSuite].forEach(function (e) { e.addEventListener("change", filterChecks); });
    fLabel.addEventListener("input", filterChecks);
    filterChecks();
  }

  // Pair grids: a cell opens its observations in the panel.
  var panel = $("obs-panel");
  function openCell(td) {
    var obs = td.querySelector(".obs");
    if (!obs || !panel) { return; }
    $("obs-title").textContent = td.getAttribute("data-from") + " -> " + td.getAttribute("data-to") + " (" + td.getAttribute("data-protocol") + ")";
    $("obs-body").innerHTML = obs.innerHTML;
    panel.hidden = false;
    $("obs-close").focus();
  }
  document.addEventListener("click", function (ev) {
    var td = ev.target.closest ? ev.target.closest("td.pair") : null;
    if (td) { openCell(td); }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && panel) { panel.hidden = true; return; }
    if ((ev.key === "Enter" || ev.key === " ") && ev.target.matches && ev.target.matches("td.pair")) { ev.preventDefault(); openCell(ev.target); }
  });
  if ($("obs-close")) { $("obs-close").addEventListener("click", function () { panel.hidden = true; }); }

  // Matrix page: filter rows by text, suite and status; sort by a column.
  var mFilter = $("m-filter"), mSuite = $("m-suite"), mStatus = $("m-status");
  function filterMatrix() {
    var q = mFilter.value.trim().toLowerCase(), su = mSuite.value, st = mStatus.value, shown = 0;
    var rows = document.querySelectorAll("tr.mrow");
    rows.forEach(function (tr) {
      var sts = (tr.getAttribute("data-statuses") || "").split(" ");
      var text = (tr.getAttribute("data-id") + " " + tr.getAttribute("data-name")).toLowerCase();
      var distinct = sts.filter(function (s, i) { return sts.indexOf(s) === i; });
      var ok = (!q || text.indexOf(q) >= 0) && (!su || tr.getAttribute("data-suite") === su) &&
        (st === "all" || (st === "differ" ? distinct.length > 1 : sts.indexOf(st) >= 0));
      tr.hidden = !ok;
      if (ok) { shown++; }
    });
    $("m-count").textContent = shown + " of " + rows.length + " checks shown";
  }
  if (mFilter) {
    mFilter.addEventListener("input", filterMatrix);
    [mSuite, mStatus].forEach(function (e) { e.addEventListener("change", filterMatrix); });
    filterMatrix();
    document.querySelectorAll("#matrix th[data-sort]").forEach(function (th) {
      th.addEventListener("click", function () {
        var key = th.getAttribute("data-sort"), desc = th.classList.contains("sorted-asc");
        var body = document.querySelector("#matrix tbody");
        var rows = Array.prototype.slice.call(body.querySelectorAll("tr.mrow"));
        rows.sort(function (a, b) {
          var x = a.getAttribute("data-" + key), y = b.getAttribute("data-" + key), c;
          if (key === "failed") { c = Number(x) - Number(y); } else { c = x < y ? -1 : x > y ? 1 : 0; }
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        document.querySelectorAll("#matrix th[data-sort]").forEach(function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
        th.classList.add(desc ? "sorted-desc" : "sorted-asc");
      });
    });
  }
}());
