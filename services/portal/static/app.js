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

  // Type-ahead on the search box: a listbox of full asset titles (one per title), driven by
  // ArrowUp/ArrowDown/Enter/Escape with aria-activedescendant, as a combobox should be.
  var q = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (q && list) {
    var timer = null, active = -1, items = [], seq = 0;
    var setActive = function (i) {
      active = i;
      list.querySelectorAll("li").forEach(function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
        if (j === i && li.scrollIntoView) li.scrollIntoView({ block: "nearest" });
      });
      if (i >= 0) q.setAttribute("aria-activedescendant", "sugg-" + i);
      else q.removeAttribute("aria-activedescendant");
    };
    var close = function () {
      list.hidden = true; list.innerHTML = ""; items = []; setActive(-1);
      q.setAttribute("aria-expanded", "false");
    };
    var unique = function (suggestions) {  // the service collapses duplicates; stay safe anyway
      var seen = {};
      return suggestions.filter(function (s) {
        var key = (s.title || s.text || "").toLowerCase().replace(/\s+/g, " ").trim();
        if (!key || seen[key] || seen["id:" + s.asset_id]) return false;
        seen[key] = true; if (s.asset_id) seen["id:" + s.asset_id] = true;
        return true;
      });
    };
    var render = function (suggestions) {
      list.innerHTML = "";
      items = unique(suggestions);
      items.forEach(function (s, i) {
        var li = document.createElement("li");
        var title = s.title || s.text;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.id = "sugg-" + i;
        li.title = title;  // the whole title on hover, whatever the width
        li.textContent = title;  // text, never HTML; the full title, wrapped by CSS
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
        li.addEventListener("mousemove", function () { if (active !== i) setActive(i); });
        list.appendChild(li);
      });
      setActive(-1);
      list.hidden = items.length === 0;
      q.setAttribute("aria-expanded", items.length ? "true" : "false");
    };
    var choose = function (i) {
      q.value = items[i].title || items[i].text;
      close();
      q.form.submit();
    };
    q.addEventListener("input", function () {
      clearTimeout(timer);
      var value = q.value.trim();
      if (value.length < 2) { seq++; close(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(q.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) { if (mine === seq) render(data.suggestions || []); })
          .catch(close);
      }, 150);
    });
    q.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        if (!list.hidden) { ev.preventDefault(); close(); }
        return;
      }
      if (list.hidden || !items.length) return;
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        var step = ev.key === "ArrowDown" ? 1 : -1;
        // from the input, Down goes to the first and Up to the last suggestion; both wrap
        setActive(active < 0 ? (step > 0 ? 0 : items.length - 1) : (active + step + items.length) % items.length);
      } else if (ev.key === "Enter" && active >= 0) {
        ev.preventDefault(); choose(active);
      }
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
