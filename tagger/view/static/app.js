// tagger view: the comparison filters ("only where A and B differ", "only where B is worse").
// Works from the server and in a saved report file alike; no library, no network.
document.addEventListener("DOMContentLoaded", function () {
  var boxes = document.querySelectorAll("input[data-filter]");
  function apply() {
    var want = [];
    boxes.forEach(function (box) { if (box.checked) want.push(box.dataset.filter); });
    var rows = document.querySelectorAll("table.side-by-side tbody tr");
    var shown = 0;
    rows.forEach(function (row) {
      var ok = want.every(function (name) { return row.dataset[name] === "1"; });
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    document.querySelectorAll(".shown-count").forEach(function (el) {
      el.textContent = shown + " of " + rows.length + " papers shown";
    });
  }
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  if (boxes.length) apply();
});
