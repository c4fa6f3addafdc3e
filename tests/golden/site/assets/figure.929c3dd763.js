// Figure pages: narrow the gene table to the genes of one organism. Without JavaScript the table shows
// every organism's genes, grouped under a heading row each; the control stays hidden.
(function () {
  "use strict";
  var filter = document.querySelector("[data-gene-filter]");
  if (!filter) { return; }
  var select = filter.querySelector("select");
  var groups = document.querySelectorAll("table.genes tbody");
  select.addEventListener("change", function () {
    for (var i = 0; i < groups.length; i++) {
      groups[i].hidden = select.value !== "" && groups[i].id !== select.value;
    }
  });
  filter.hidden = false;
})();
