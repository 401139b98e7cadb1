/* Document viewer (templates/_viewer.html): one page image at a time.
   Prev/Next (disabled at the ends), page buttons, zoom, full screen and the keyboard:
   Left/Right/PageUp/PageDown/Home/End change the page, + and - zoom, 0 fits the page,
   F toggles full screen. Every [data-viewer] works on its own (a deal room shows several);
   the keyboard drives the one in full screen, else the one last touched, else the first.
   Each page change dispatches "viewer:page" {from, to} on the viewer, which the share
   page turns into page-time events. Styles only through classes and CSSOM (the portal's
   Content-Security-Policy forbids inline style attributes). */
(function () {
  "use strict";
  var ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];
  var FIT = ZOOMS.indexOf(1);
  var SWIPE_PX = 50;
  var viewers = [];
  var lastUsed = null;

  var fullscreenElement = function () {
    return document.fullscreenElement || document.webkitFullscreenElement || null;
  };
  var fullscreenApi = function (el) {
    var request = el.requestFullscreen || el.webkitRequestFullscreen;
    var enabled = document.fullscreenEnabled || document.webkitFullscreenEnabled;
    return request && enabled ? request : null;
  };

  function setup(el) {
    if (el.viewer) return el.viewer;
    var src = el.getAttribute("data-src");
    var pages = Math.max(1, parseInt(el.getAttribute("data-pages"), 10) || 1);
    var img = el.querySelector("[data-page-img]");
    var stage = el.querySelector("[data-stage]") || img.parentNode;
    var current = el.querySelector("[data-current]");
    var find = function (attr) { return el.querySelector("[" + attr + "]"); };
    var prev = find("data-prev"), next = find("data-next");
    var zoomIn = find("data-zoom-in"), zoomOut = find("data-zoom-out"), zoomLevel = find("data-zoom-level");
    var fsButton = find("data-fullscreen");
    var page = 1;
    var zoom = FIT;

    var refresh = function () {
      if (prev) prev.disabled = page <= 1;
      if (next) next.disabled = page >= pages;
      if (zoomOut) zoomOut.disabled = zoom <= 0;
      if (zoomIn) zoomIn.disabled = zoom >= ZOOMS.length - 1;
      var percent = Math.round(ZOOMS[zoom] * 100);
      if (zoomLevel) zoomLevel.textContent = percent + "%";
      el.setAttribute("data-zoom", String(percent));
    };

    var show = function (n) {
      n = Math.max(1, Math.min(pages, n));
      if (n === page) return;
      var from = page;
      page = n;
      img.src = src + n + ".png?w=1000";
      img.alt = "Page " + n + " of " + pages;
      current.textContent = String(n);
      el.querySelectorAll(".thumb").forEach(function (t) {
        t.classList.toggle("on", parseInt(t.getAttribute("data-goto"), 10) === n);
      });
      refresh();
      el.dispatchEvent(new CustomEvent("viewer:page", { detail: { from: from, to: n } }));
      if (n < pages) { var pre = new Image(); pre.src = src + (n + 1) + ".png?w=1000"; }
    };

    // Zoom scales the width the page has when it fits the stage; beyond the stage it scrolls inside it,
    // so the document itself never grows wider than the screen.
    var applyZoom = function () {
      img.style.width = "";
      stage.classList.remove("is-zoomed");
      if (zoom !== FIT) {
        var fitted = img.getBoundingClientRect().width || stage.clientWidth;
        img.style.width = Math.round(fitted * ZOOMS[zoom]) + "px";
        stage.classList.add("is-zoomed");
      }
      refresh();
    };
    var setZoom = function (index) {
      zoom = Math.max(0, Math.min(ZOOMS.length - 1, index));
      applyZoom();
    };

    // Full screen through the Fullscreen API; where a browser has none for elements (iPhone Safari),
    // the viewer covers the window instead.
    var setCovering = function (on) {
      el.classList.toggle("is-covering", on);
      document.body.classList.toggle("viewer-covering", on);
      onFullscreenChange();
    };
    var isFull = function () { return fullscreenElement() === el || el.classList.contains("is-covering"); };
    var onFullscreenChange = function () {
      var full = isFull();
      el.classList.toggle("is-fullscreen", full);
      if (fsButton) fsButton.setAttribute("aria-pressed", full ? "true" : "false");
      if (zoom !== FIT) applyZoom();
    };
    var toggleFullscreen = function () {
      if (fullscreenElement() === el) {
        (document.exitFullscreen || document.webkitExitFullscreen).call(document);
        return;
      }
      if (el.classList.contains("is-covering")) { setCovering(false); return; }
      var request = fullscreenApi(el);
      if (!request) { setCovering(true); return; }
      var pending = request.call(el);
      if (pending && pending.catch) pending.catch(function () { setCovering(true); });
    };

    var handleKey = function (key) {
      switch (key) {
        case "ArrowRight": case "PageDown": show(page + 1); return true;
        case "ArrowLeft": case "PageUp": show(page - 1); return true;
        case "Home": show(1); return true;
        case "End": show(pages); return true;
        case "+": case "=": setZoom(zoom + 1); return true;
        case "-": case "_": setZoom(zoom - 1); return true;
        case "0": setZoom(FIT); return true;
        case "f": case "F": toggleFullscreen(); return true;
        case "Escape":
          if (el.classList.contains("is-covering")) { setCovering(false); return true; }
          return false;
        default: return false;
      }
    };

    var used = function () { lastUsed = api; };
    if (prev) prev.addEventListener("click", function () { show(page - 1); });
    if (next) next.addEventListener("click", function () { show(page + 1); });
    if (zoomIn) zoomIn.addEventListener("click", function () { setZoom(zoom + 1); });
    if (zoomOut) zoomOut.addEventListener("click", function () { setZoom(zoom - 1); });
    if (fsButton) fsButton.addEventListener("click", toggleFullscreen);
    el.querySelectorAll("[data-goto]").forEach(function (t) {
      t.addEventListener("click", function () { show(parseInt(t.getAttribute("data-goto"), 10)); });
    });
    el.addEventListener("pointerdown", used);
    el.addEventListener("focusin", used);
    document.addEventListener("fullscreenchange", onFullscreenChange);
    document.addEventListener("webkitfullscreenchange", onFullscreenChange);
    window.addEventListener("resize", function () { if (zoom !== FIT) applyZoom(); });

    // Swipe left/right on the page at fit size (zoomed, a swipe scrolls the page instead).
    var touchX = null, touchY = null;
    stage.addEventListener("touchstart", function (ev) {
      if (ev.touches.length !== 1) { touchX = null; return; }
      touchX = ev.touches[0].clientX; touchY = ev.touches[0].clientY;
    }, { passive: true });
    stage.addEventListener("touchend", function (ev) {
      if (touchX === null || zoom !== FIT) return;
      var dx = ev.changedTouches[0].clientX - touchX, dy = ev.changedTouches[0].clientY - touchY;
      touchX = null;
      if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > 2 * Math.abs(dy)) show(page + (dx < 0 ? 1 : -1));
    }, { passive: true });

    var api = { el: el, show: show, handleKey: handleKey, isFull: isFull,
                currentPage: function () { return page; }, zoom: function () { return ZOOMS[zoom]; } };
    el.viewer = api;
    el.currentPage = api.currentPage;
    viewers.push(api);
    refresh();
    return api;
  }

  var activeViewer = function () {
    var focused = document.activeElement;
    var i;
    for (i = 0; i < viewers.length; i++) if (viewers[i].isFull()) return viewers[i];
    for (i = 0; i < viewers.length; i++) if (focused && viewers[i].el.contains(focused)) return viewers[i];
    if (lastUsed && document.contains(lastUsed.el)) return lastUsed;
    return viewers[0] || null;
  };

  document.addEventListener("keydown", function (ev) {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var target = ev.target || {};
    var tag = target.tagName || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return;
    var viewer = activeViewer();
    if (viewer && viewer.handleKey(ev.key)) ev.preventDefault();
  });

  document.querySelectorAll("[data-viewer]").forEach(setup);
  // Pages that add viewers later (e.g. a deal room opening another asset) call this for each.
  window.CollateralViewer = { setup: setup };
})();
