// Client-side search over /search.json: entity-like matches (gene, chemical, organism, ID) rank first.
(function () {
  "use strict";
  var box = document.getElementById("results");
  if (!box) { return; }
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || "").trim();
  var input = document.getElementById("q");
  if (input) { input.value = query; }
  if (!query) { return; }
  var base = box.getAttribute("data-base") || "";

  function norm(s) { return (s || "").toString().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }

  function score(entry, terms, whole) {
    var total = 0;
    var exact = [entry.id].concat(entry.a, entry.g, entry.c, entry.o).map(norm);
    if (exact.indexOf(whole) >= 0) { total += 100; }
    var text = norm([entry.t, entry.k.join(" "), entry.g.join(" "), entry.c.join(" "), entry.o.join(" "), entry.y || ""].join(" "));
    for (var i = 0; i < terms.length; i++) {
      if (text.indexOf(terms[i]) < 0) { return 0; }
      total += norm(entry.t).indexOf(terms[i]) >= 0 ? 3 : 1;
    }
    return total;
  }

  function show(hits) {
    box.textContent = "";
    var summary = document.createElement("p");
    summary.textContent = hits.length + " figure" + (hits.length === 1 ? "" : "s") + " match \u201c" + query + "\u201d";
    box.appendChild(summary);
    hits.slice(0, 200).forEach(function (hit) {
      var div = document.createElement("div");
      div.className = "hit";
      var a = document.createElement("a");
      a.href = base + "/figures/" + encodeURIComponent(hit.id) + ".html";
      a.textContent = hit.t;
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [hit.y || "year unknown", hit.id].concat(hit.o.slice(0, 3)).join(" \u00b7 ");
      div.appendChild(a);
      div.appendChild(meta);
      box.appendChild(div);
    });
  }

  fetch(box.getAttribute("data-index")).then(function (r) { return r.json(); }).then(function (entries) {
    var whole = norm(query);
    var terms = whole.split(/\s+/).filter(Boolean);
    var hits = [];
    entries.forEach(function (e) { var s = score(e, terms, whole); if (s > 0) { hits.push([s, e]); } });
    hits.sort(function (x, y) { return y[0] - x[0] || (y[1].y || "").localeCompare(x[1].y || ""); });
    show(hits.map(function (h) { return h[1]; }));
  }).catch(function () { box.textContent = "The search index could not be loaded."; });
}());
