/* Collateral portal: progressive enhancement only; every page works without it. */
(function () {
  "use strict";

  // Filters and sort submit their form on change.
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () {
      var form = el.form;
      if (!form) return;
      var token = form.querySelector("input[name=page_token]");
      if (token) token.remove();
      form.submit();
    });
  });

  // Forms that ask before doing something irreversible.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });

  // "Select all" checkbox of a table.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-select-all");
      box.closest("form").querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (c) {
        c.checked = box.checked;
      });
    });
  });

  // Copy a share link.
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var input = document.querySelector(btn.getAttribute("data-copy"));
      input.select();
      var done = function () { btn.textContent = "Copied"; setTimeout(function () { btn.textContent = "Copy link"; }, 2000); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else { document.execCommand("copy"); done(); }
    });
  });
  document.querySelectorAll("[data-select-on-focus]").forEach(function (el) {
    el.addEventListener("focus", function () { el.select(); });
  });

  // Type-ahead on the search box.
  var q = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (q && list) {
    var timer = null, active = -1, items = [], seq = 0;
    var close = function () { list.hidden = true; list.innerHTML = ""; active = -1; items = []; };
    var render = function (suggestions) {
      list.innerHTML = "";
      items = suggestions;
      suggestions.forEach(function (s, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = "sugg-" + i;
        li.textContent = s.text;  // text, never HTML
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = suggestions.length === 0;
    };
    var choose = function (i) {
      q.value = items[i].text;
      close();
      q.form.submit();
    };
    q.addEventListener("input", function () {
      clearTimeout(timer);
      var value = q.value.trim();
      if (value.length < 2) { close(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(q.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) { if (mine === seq) render(data.suggestions || []); })
          .catch(close);
      }, 150);
    });
    q.addEventListener("keydown", function (ev) {
      if (list.hidden) return;
      var lis = list.querySelectorAll("li");
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        active = (active + (ev.key === "ArrowDown" ? 1 : -1) + lis.length) % lis.length;
        lis.forEach(function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
        q.setAttribute("aria-activedescendant", "sugg-" + active);
      } else if (ev.key === "Enter" && active >= 0) {
        ev.preventDefault(); choose(active);
      } else if (ev.key === "Escape") { close(); }
    });
    q.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  // Page viewer: one page image at a time, keyboard and buttons.
  document.querySelectorAll("[data-viewer]").forEach(function (viewer) {
    var src = viewer.getAttribute("data-src");
    var pages = parseInt(viewer.getAttribute("data-pages"), 10) || 1;
    var img = viewer.querySelector("[data-page-img]");
    var current = viewer.querySelector("[data-current]");
    var page = 1;
    var show = function (n) {
      n = Math.max(1, Math.min(pages, n));
      if (n === page) return;
      var from = page;
      page = n;
      img.src = src + n + ".png?w=1000";
      img.alt = "Page " + n + " of " + pages;
      current.textContent = String(n);
      viewer.querySelectorAll(".thumb").forEach(function (t) {
        t.classList.toggle("on", parseInt(t.getAttribute("data-goto"), 10) === n);
      });
      viewer.dispatchEvent(new CustomEvent("viewer:page", { detail: { from: from, to: n } }));
      if (n < pages) { var pre = new Image(); pre.src = src + (n + 1) + ".png?w=1000"; }
    };
    viewer.querySelector("[data-prev]").addEventListener("click", function () { show(page - 1); });
    viewer.querySelector("[data-next]").addEventListener("click", function () { show(page + 1); });
    viewer.querySelectorAll("[data-goto]").forEach(function (t) {
      t.addEventListener("click", function () { show(parseInt(t.getAttribute("data-goto"), 10)); });
    });
    document.addEventListener("keydown", function (ev) {
      var tag = (ev.target && ev.target.tagName) || "";
      if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
      if (ev.key === "ArrowRight" || ev.key === "PageDown") show(page + 1);
      if (ev.key === "ArrowLeft" || ev.key === "PageUp") show(page - 1);
    });
    viewer.currentPage = function () { return page; };
  });
})();
