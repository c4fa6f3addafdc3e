// Alias stub pages: go to the figure the page names, keeping any #fragment.
// An external file, so that the Content-Security-Policy needs no inline script.
(function () {
  var link = document.querySelector('a[data-redirect]');
  if (link) location.replace(link.getAttribute('href') + location.hash);
})();
