/* The notification bell: the unread count without a page reload. Asks on load, every 15 s
   while the tab is visible, and when the window regains focus; shows nothing if it cannot. */
(function () {
  "use strict";
  var bell = document.getElementById("notify-bell");
  if (!bell) return;
  var badge = document.getElementById("notify-count");
  var url = bell.getAttribute("data-unread-url");
  var EVERY_MS = 15000;

  function show(count) {
    if (typeof count !== "number" || count <= 0) {
      badge.hidden = true;
      badge.textContent = "";
      bell.setAttribute("aria-label", "Notifications");
      return;
    }
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.hidden = false;
    bell.setAttribute("aria-label", "Notifications: " + count + " unread");
  }

  function refresh() {
    if (document.visibilityState === "hidden") return;
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : {unread: null}; })
      .then(function (body) { show(body.unread); })
      .catch(function () { /* offline or signed out: keep what is shown */ });
  }

  refresh();
  setInterval(refresh, EVERY_MS);
  window.addEventListener("focus", refresh);
  document.addEventListener("visibilitychange", refresh);
})();
