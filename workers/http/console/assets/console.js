// Progressive enhancement only: every page works without this script. While what a page shows is still moving (a
// running run or backfill, a tick not yet recorded), its #live section is fetched again every few seconds and swapped
// in (the server renders it, escaped as always); when it settles, the page reloads once so its actions are current.
(function () {
  'use strict';
  var live = document.getElementById('live');
  if (!live || live.getAttribute('data-live') !== 'on') return;
  function refresh() {
    fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, 'text/html').getElementById('live');
        if (!next) return;
        if (next.getAttribute('data-live') !== 'on') { location.reload(); return; }
        live.innerHTML = next.innerHTML;
        setTimeout(refresh, 3000);
      })
      .catch(function () { setTimeout(refresh, 10000); });
  }
  setTimeout(refresh, 3000);
})();
