/* The notification bell: the unread count without a page reload. Asks on load, every 15 s
   while the tab is visible, and when the window regains focus; shows nothing if it cannot. */
(function () {
  "use strict";
  var bell = document.getElementById("notify-bell");
  if (!bell) return;
  var url = bell.getAttribute("data-unread-url");
  var EVERY_MS = 15000;
  // The bell in the menu and, on a phone, the one beside the folded menu.
  var bells = Array.prototype.slice.call(document.querySelectorAll("[data-bell]"));

  function show(count) {
    var unread = typeof count === "number" && count > 0;
    bells.forEach(function (b) {
      var badge = b.querySelector("[data-bell-count]");
      badge.hidden = !unread;
      badge.textContent = unread ? (count > 99 ? "99+" : String(count)) : "";
      b.setAttribute("aria-label", unread ? "Notifications: " + count + " unread" : "Notifications");
    });
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
