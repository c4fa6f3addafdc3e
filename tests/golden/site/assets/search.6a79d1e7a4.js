// The search page: a name lookup first (a gene, chemical, disease or organism name, a figure ID,
// PMCID or DOI leads to its own page), then full-text results from the Pagefind bundles, merged.
// Everything the page shows comes from its URL (?q=&organism=&from=&to=), so results can be shared.
(function () {
  "use strict";
  var box = document.getElementById("results");
  if (!box) { return; }
  var base = box.getAttribute("data-base") || "";
  var params = new URLSearchParams(window.location.search);
  var query = (params.get("q") || params.get("query") || "").trim();  // ?query= is the reference site's
  var organism = params.get("organism") || "";
  var from = parseInt(params.get("from") || "", 10);
  var to = parseInt(params.get("to") || "", 10);
  var PAGE = 20;

  function field(id, value) { var el = document.getElementById(id); if (el && value) { el.value = value; } }
  field("q", query);
  field("from", isNaN(from) ? "" : String(from));
  field("to", isNaN(to) ? "" : String(to));

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  // Same normalisation as site_gen/search.py: NFKD, lower case, letters and digits only.
  function nameKey(text) {
    return Array.from(text.normalize("NFKD").toLowerCase()).filter(function (c) {
      return /[\p{L}\p{N}]/u.test(c);
    }).join("");
  }
  // FNV-1a of the UTF-8 bytes, modulo 1024: site_gen/search.py bucket_of.
  function bucketOf(key) {
    var h = 0x811c9dc5, bytes = new TextEncoder().encode(key);
    for (var i = 0; i < bytes.length; i++) { h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0; }
    return h % 1024;
  }
  function pad(n, width) { return String(n).padStart(width, "0"); }

  // Pagefind's excerpt (of the title and caption it indexed) marks the words that matched with
  // <mark>. It is parsed inertly and rebuilt from text nodes: only the marks are kept as elements.
  function highlighted(excerpt) {
    var out = el("span", { "class": "excerpt" });
    var parsed = new DOMParser().parseFromString("<p>" + excerpt + "</p>", "text/html").body;
    (function walk(node) {
      for (var child = node.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === 3) {
          out.appendChild(document.createTextNode(child.nodeValue));
        } else if (child.nodeName === "MARK") {
          out.appendChild(el("mark", {}, child.textContent));
        } else if (child.nodeType === 1) {
          walk(child);
        }
      }
    })(parsed.firstChild || parsed);
    return out;
  }

  function showNames(hits) {
    if (!hits.length) { return; }
    var section = el("section", { "class": "names", "aria-label": "Pages named " + query });
    var list = el("ul");
    hits.forEach(function (hit) {
      var item = el("li");
      item.appendChild(el("a", { href: base + hit[1], "class": "name-hit" }, hit[0]));
      list.appendChild(item);
    });
    section.appendChild(list);
    box.appendChild(section);
  }

  function lookupNames() {
    var key = nameKey(query);
    if (key.length < 2) { return Promise.resolve([]); }
    var bucket = bucketOf(key);
    return fetch(base + "/search/names/" + pad(Math.floor(bucket / 32), 2) + "/" + pad(bucket, 4) + ".json")
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (data) { return data[key] || []; })
      .catch(function () { return []; });
  }

  function loadPagefind() {
    return fetch(base + "/pagefind/indexes.json").then(function (r) { return r.json(); }).then(function (names) {
      if (!names.length) { return null; }
      var first = base + "/pagefind/" + names[0] + "/";
      return import(first + "pagefind.js").then(function (pagefind) {
        return pagefind.options({ basePath: first, baseUrl: base + "/" }).then(function () {
          return Promise.all(names.slice(1).map(function (n) { return pagefind.mergeIndex(base + "/pagefind/" + n + "/"); }));
        }).then(function () { return pagefind; });
      });
    });
  }

  function fillOrganisms(pagefind) {
    var select = document.getElementById("organism");
    if (!select) { return Promise.resolve(); }
    return pagefind.filters().then(function (filters) {
      var counts = filters.organism || {};
      Object.keys(counts).sort().forEach(function (name) {
        var option = el("option", { value: name }, name + " (" + counts[name] + ")");
        if (name === organism) { option.selected = true; }
        select.appendChild(option);
      });
    });
  }

  function showFigures(search) {
    var section = el("section", { "class": "figures-found", "aria-label": "Figures" });
    var summary = el("p", { "class": "summary", role: "status" },
      search.results.length + " figure" + (search.results.length === 1 ? "" : "s") + " found");
    var list = el("ol", { "class": "hits" });
    section.appendChild(summary);
    section.appendChild(list);
    box.appendChild(section);
    var shown = 0;
    var more = el("button", { type: "button", "class": "more" }, "More results");
    function next() {
      var slice = search.results.slice(shown, shown + PAGE);
      shown += slice.length;
      return Promise.all(slice.map(function (r) { return r.data(); })).then(function (pages) {
        pages.forEach(function (page) {
          var item = el("li", { "class": "hit" });
          if (page.meta.image) {
            item.appendChild(el("img", { src: page.meta.image, alt: "", loading: "lazy", width: "96" }));
          }
          item.appendChild(el("a", { href: page.url }, page.meta.title || page.url));
          var facts = [];
          if (page.filters.year) { facts.push(page.filters.year.join(", ")); }
          if (page.filters.organism) { facts.push(page.filters.organism.join(", ")); }
          item.appendChild(el("span", { "class": "meta" }, facts.join(" · ")));
          item.appendChild(highlighted(page.excerpt));
          list.appendChild(item);
        });
        if (shown < search.results.length) { section.appendChild(more); } else if (more.parentNode) { more.remove(); }
      });
    }
    more.addEventListener("click", next);
    return next();
  }

  var filters = {};
  if (organism) { filters.organism = organism; }
  if (!isNaN(from) || !isNaN(to)) {
    var years = [];
    for (var y = isNaN(from) ? 1900 : from; y <= (isNaN(to) ? new Date().getFullYear() : to); y++) { years.push(String(y)); }
    filters.year = { any: years.length ? years : ["none"] };  // an empty range finds nothing, not everything
  }
  var asked = query || organism || !isNaN(from) || !isNaN(to);
  if (asked) { box.appendChild(el("p", { "class": "summary" }, "Searching…")); }
  (asked && query ? lookupNames() : Promise.resolve([])).then(function (names) {
    // A figure ID, alias, PMCID or DOI names its figure: no full-text search (and no index download).
    var onlyFigures = names.length > 0 && names.every(function (hit) { return hit[2] === "figure"; });
    if (onlyFigures && !organism && isNaN(from) && isNaN(to)) {
      box.textContent = "";
      showNames(names);
      return;
    }
    return loadPagefind().then(function (pagefind) {
      return (pagefind ? fillOrganisms(pagefind) : Promise.resolve()).then(function () {
        if (!asked) { return; }
        box.textContent = "";
        showNames(names);
        if (!pagefind) { return; }
        return pagefind.search(query || null, { filters: filters }).then(showFigures);
      });
    });
  }).catch(function (err) {
    box.textContent = "";
    box.appendChild(el("p", { role: "alert" }, "Search is not available: " + err));
  }).then(function () { box.setAttribute("data-state", "done"); });
})();
