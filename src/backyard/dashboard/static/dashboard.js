// backyard dashboard: live refresh of [data-live] regions, and confirmations
// for [data-confirm] forms. No framework and no build step; every page also
// works without it (forms post, links navigate).
(function () {
  "use strict";

  function keepOpen(region) {
    var open = [];
    region.querySelectorAll("details[open][id]").forEach(function (d) { open.push(d.id); });
    return open;
  }

  function reopen(region, ids) {
    ids.forEach(function (id) {
      var d = document.getElementById(id);
      if (d && region.contains(d)) { d.open = true; }
    });
  }

  function live(region) {
    var every = Math.max(0.5, parseFloat(region.dataset.every) || 2) * 1000;
    var failures = 0;

    function schedule(ms) { window.setTimeout(tick, ms); }

    function tick() {
      if (document.hidden) { schedule(every); return; }
      // The server renders only this region's fragment when it sees the header.
      fetch(window.location.href, {
        headers: { "X-Backyard-Live": "1" },
        credentials: "same-origin",
        cache: "no-store"
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      }).then(function (html) {
        var open = keepOpen(region);
        region.innerHTML = html;
        reopen(region, open);
        region.classList.remove("stale");
        failures = 0;
        if (!region.querySelector("[data-live-stop]")) { schedule(every); }
      }).catch(function () {
        // Server restarting or store down: show the data as stale and back off.
        region.classList.add("stale");
        failures += 1;
        schedule(Math.min(every * Math.pow(2, failures), 30000));
      });
    }

    if (!region.querySelector("[data-live-stop]")) { schedule(every); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(live);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form && form.dataset ? form.dataset.confirm : null;
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
