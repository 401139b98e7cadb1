/* Share-link viewer: reports the open and the time spent per page to the portal.
   Only a real browser running this script produces an open; scanners and previews that
   fetch the HTML (or only its headers) never do. */
(function () {
  "use strict";
  var root = document.getElementById("share-root");
  if (!root) return;
  var url = root.getAttribute("data-beacon");
  var visit = root.getAttribute("data-visit");
  var seq = 0;
  var send = function (payload) {
    payload.visit = visit;
    var body = JSON.stringify(payload);
    if (navigator.sendBeacon && navigator.sendBeacon(url, new Blob([body], { type: "application/json" }))) return;
    fetch(url, { method: "POST", body: body, headers: { "Content-Type": "application/json" }, keepalive: true,
                 credentials: "same-origin" }).catch(function () {});
  };
  send({ kind: "open" });

  var viewer = root.querySelector("[data-viewer]");
  if (!viewer) return;
  var page = 1;
  var since = Date.now();
  var visible = document.visibilityState !== "hidden";
  var flush = function () {
    if (!visible) return;
    var seconds = (Date.now() - since) / 1000;
    since = Date.now();
    if (seconds >= 0.5) send({ kind: "page", page: page, seconds: Math.min(seconds, 3600), seq: seq++ });
  };
  viewer.addEventListener("viewer:page", function (ev) {
    flush();
    page = ev.detail.to;
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); visible = false; }
    else { visible = true; since = Date.now(); }
  });
  window.addEventListener("pagehide", flush);
})();
