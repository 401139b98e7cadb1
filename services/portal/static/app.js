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

  // One ARIA listbox of options under a text input (the search type-ahead, the opportunity
  // pickers): options rendered as text, the active one named by aria-activedescendant,
  // ArrowDown/ArrowUp moving (from the input, Down goes to the first option and Up to the last;
  // both wrap), Enter choosing the active option, Escape closing, a click choosing.
  function listbox(input, list, idPrefix, onChoose) {
    var active = -1, items = [];
    var setActive = function (i) {
      active = i;
      list.querySelectorAll("li").forEach(function (li, j) {
        li.setAttribute("aria-selected", j === i ? "true" : "false");
        if (j === i && li.scrollIntoView) li.scrollIntoView({ block: "nearest" });
      });
      if (i >= 0) input.setAttribute("aria-activedescendant", idPrefix + i);
      else input.removeAttribute("aria-activedescendant");
    };
    var box = {
      close: function () {
        list.hidden = true; list.innerHTML = ""; items = []; setActive(-1);
        input.setAttribute("aria-expanded", "false");
      },
      render: function (options, labelOf, titleOf) {
        list.innerHTML = "";
        items = options;
        items.forEach(function (o, i) {
          var li = document.createElement("li");
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", "false");
          li.id = idPrefix + i;
          li.title = titleOf(o);
          li.textContent = labelOf(o);  // text, never HTML
          li.addEventListener("mousedown", function (ev) { ev.preventDefault(); onChoose(items[i]); });
          li.addEventListener("mousemove", function () { if (active !== i) setActive(i); });
          list.appendChild(li);
        });
        setActive(-1);
        list.hidden = items.length === 0;
        input.setAttribute("aria-expanded", items.length ? "true" : "false");
      },
      keydown: function (ev) {
        if (ev.key === "Escape") {
          if (!list.hidden) { ev.preventDefault(); box.close(); }
          return;
        }
        if (list.hidden || !items.length) return;
        if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
          ev.preventDefault();
          var step = ev.key === "ArrowDown" ? 1 : -1;
          setActive(active < 0 ? (step > 0 ? 0 : items.length - 1) : (active + step + items.length) % items.length);
        } else if (ev.key === "Enter" && active >= 0) {
          ev.preventDefault(); onChoose(items[active]);
        }
      }
    };
    return box;
  }

  // Type-ahead on the search box: a listbox of full asset titles (one per title), driven by
  // ArrowUp/ArrowDown/Enter/Escape with aria-activedescendant, as a combobox should be.
  var q = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (q && list) {
    var timer = null, seq = 0;
    var titleOf = function (s) { return s.title || s.text; };
    var suggestions = listbox(q, list, "sugg-", function (s) {
      q.value = titleOf(s);
      suggestions.close();
      q.form.submit();
    });
    var close = suggestions.close;
    var unique = function (suggestions) {  // the service collapses duplicates; stay safe anyway
      var seen = {};
      return suggestions.filter(function (s) {
        var key = (s.title || s.text || "").toLowerCase().replace(/\s+/g, " ").trim();
        if (!key || seen[key] || seen["id:" + s.asset_id]) return false;
        seen[key] = true; if (s.asset_id) seen["id:" + s.asset_id] = true;
        return true;
      });
    };
    // the whole title, as text, wrapped by CSS, and on hover whatever the width
    var render = function (found) { suggestions.render(unique(found), titleOf, titleOf); };
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
    q.addEventListener("keydown", suggestions.keydown);
    q.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  // Opportunity pickers (templates/_macros.html opportunity_picker): a combobox of the user's open
  // CRM opportunities. Typed text is submitted as the id (a pasted id works); picking an option
  // submits its id through the hidden field instead and shows "Opportunity — Account".
  document.querySelectorAll("[data-opportunity-picker]").forEach(function (box) {
    var input = box.querySelector("[data-picker-input]");
    var hidden = box.querySelector("[data-picker-id]");
    var list = box.querySelector("[role=listbox]");
    var name = input.getAttribute("name");
    var timer = null, seq = 0;
    var typed = function () {  // the text box is the value again, as typed
      hidden.removeAttribute("name"); hidden.value = "";
      input.setAttribute("name", name);
      delete box.dataset.picked;
    };
    var choose = function (o) {
      input.value = o.label;
      input.removeAttribute("name");
      hidden.setAttribute("name", name); hidden.value = o.opportunity_id;
      box.dataset.picked = o.opportunity_id;
      var accountName = box.getAttribute("data-account-field");
      var account = accountName && input.form ? input.form.querySelector("[name='" + accountName + "']") : null;
      if (account && !account.value) account.value = o.account_id;
      options.close();
    };
    var options = listbox(input, list, list.id + "-", choose);
    var close = options.close;
    var render = function (found) {
      options.render(found, function (o) { return o.label; }, function (o) { return o.opportunity_id; });
    };
    var fetchOptions = function () {
      clearTimeout(timer);
      var value = input.value.trim();
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(box.getAttribute("data-options-url") + "?q=" + encodeURIComponent(value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { opportunities: [] }; })
          .then(function (data) {
            if (mine !== seq || document.activeElement !== input) return;
            render(data.opportunities || []);
            box.setAttribute("data-shown-for", value);  // what the options on show answer
          })
          .catch(close);
      }, 150);
    };
    input.addEventListener("input", function () { if (box.dataset.picked) typed(); fetchOptions(); });
    input.addEventListener("focus", function () { if (!box.dataset.picked) fetchOptions(); });
    input.addEventListener("keydown", function (ev) {
      if ((ev.key === "ArrowDown" || ev.key === "ArrowUp") && list.hidden) {
        ev.preventDefault(); fetchOptions(); return;
      }
      options.keydown(ev);
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  });

  // Buttons that ask before doing something irreversible (one of several actions of a form).
  document.querySelectorAll("button[data-confirm]").forEach(function (btn) {
    btn.addEventListener("click", function (ev) {
      if (!window.confirm(btn.getAttribute("data-confirm"))) ev.preventDefault();
    });
  });

  // How many rows are selected, next to the actions that apply to them.
  document.querySelectorAll("[data-selected-count]").forEach(function (label) {
    var form = label.closest("form");
    var update = function () {
      var n = form.querySelectorAll("input[type=checkbox][name=asset_id]:checked").length;
      label.textContent = n ? n + " selected" : "Select assets below";
    };
    form.addEventListener("change", update);
    update();
  });

  // Catalog bulk actions: the row checkboxes belong to #bulk-form by their form attribute.
  var bulkForm = document.getElementById("bulk-form");
  if (bulkForm) {
    var rows = function () { return document.querySelectorAll("input.row-select"); };
    var counter = document.getElementById("bulk-selected");
    var count = function () {
      var n = Array.prototype.filter.call(rows(), function (b) { return b.checked; }).length;
      counter.textContent = n ? n + " selected:" : "Select rows, then:";
    };
    var all = document.getElementById("select-all");
    if (all) all.addEventListener("change", function () {
      rows().forEach(function (b) { b.checked = all.checked; });
      count();
    });
    rows().forEach(function (b) { b.addEventListener("change", count); });
  }

  // The page viewer ([data-viewer]) is static/viewer.js.
})();
