// Figure pages. Without JavaScript every part of the page still works: the gene table shows every
// organism's genes, grouped under a heading row each; the permalink is a plain link; the GPML file is
// a download. With it:
// - a menu narrows the gene table to the genes of one organism;
// - the permalink link copies the link;
// - a button copies the figure's GPML (fetched from the site) for pasting into PathVisio.
(function () {
  "use strict";

  function copied(element, text) {
    if (!navigator.clipboard) { return Promise.reject(new Error("no clipboard")); }
    return navigator.clipboard.writeText(text).then(function () {
      var label = element.textContent;
      element.textContent = "Copied";
      setTimeout(function () { element.textContent = label; }, 1500);
    });
  }

  var filter = document.querySelector("[data-gene-filter]");
  if (filter) {
    var select = filter.querySelector("select");
    var groups = document.querySelectorAll("table.genes tbody");
    select.addEventListener("change", function () {
      for (var i = 0; i < groups.length; i++) {
        groups[i].hidden = select.value !== "" && groups[i].id !== select.value;
      }
    });
    filter.hidden = false;
  }

  var links = document.querySelectorAll("a[data-copy]");
  for (var i = 0; i < links.length; i++) {
    links[i].addEventListener("click", function (event) {
      var link = event.currentTarget;
      event.preventDefault();
      copied(link, link.getAttribute("data-copy")).catch(function () { window.location = link.href; });
    });
  }

  var buttons = document.querySelectorAll("button[data-copy-from]");
  for (var j = 0; j < buttons.length; j++) {
    buttons[j].hidden = !navigator.clipboard;
    buttons[j].addEventListener("click", function (event) {
      var button = event.currentTarget;
      fetch(button.getAttribute("data-copy-from")).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      }).then(function (text) { return copied(button, text); }).catch(function () {
        button.textContent = "Could not copy: download the file instead";
      });
    });
  }
})();
