// My shares: "Copy link" asks the portal for an active link's URL again and puts it on the clipboard.
(function () {
  "use strict";
  function show(btn, text, ok) {
    var status = btn.parentNode.querySelector(".copy-status");
    status.textContent = text;
    status.classList.toggle("copy-failed", !ok);
    if (ok) {
      btn.textContent = "Copied";
      btn.classList.add("copied");
      setTimeout(function () { btn.textContent = "Copy link"; btn.classList.remove("copied"); }, 2500);
    }
  }

  function fallback(btn, url) {
    // Without clipboard access, show the link selected so the rep can copy it by hand.
    var input = btn.parentNode.querySelector("input.copy-url");
    input.value = url;
    input.hidden = false;
    input.select();
    show(btn, "Select and copy the link.", true);
  }

  document.querySelectorAll("[data-copy-share]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      fetch(btn.getAttribute("data-copy-share"), {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": btn.getAttribute("data-csrf"), "Accept": "application/json"}
      }).then(function (resp) {
        return resp.json().then(function (body) { return {ok: resp.ok, body: body}; });
      }).then(function (answer) {
        if (!answer.ok) { show(btn, answer.body.error || "This link cannot be copied.", false); return; }
        var url = answer.body.url;
        btn.parentNode.querySelector("input.copy-url").value = url;
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(url).then(function () { show(btn, "", true); },
                                                  function () { fallback(btn, url); });
        } else { fallback(btn, url); }
      }).catch(function () { show(btn, "The link could not be fetched. Try again.", false); });
    });
  });
})();
