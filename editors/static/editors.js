// The editors' pages: the language switch and the live WhatsApp preview. No inline script.
(function () {
  "use strict";
  var root = document.documentElement;
  var toggle = document.getElementById("lang-toggle");
  function setLang(lang) {
    root.classList.toggle("en", lang === "en");
    root.lang = lang;
    if (toggle) toggle.textContent = lang === "en" ? "Bahasa Indonesia" : "English";
  }
  var saved = null;
  try { saved = localStorage.getItem("cekfakta.editors.lang"); } catch (e) { /* private mode */ }
  setLang(saved === "en" ? "en" : "id");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var next = root.classList.contains("en") ? "id" : "en";
      try { localStorage.setItem("cekfakta.editors.lang", next); } catch (e) { /* ignore */ }
      setLang(next);
    });
  }

  var form = document.getElementById("claim-form");
  var preview = document.getElementById("preview");
  if (!form || !preview) return;
  var timer = null, seq = 0;
  function refresh() {
    var mine = ++seq;
    var body = new FormData(form);
    body.delete("images");  // the preview needs no pictures: never upload them as you type
    fetch(form.dataset.previewUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRF-Token": body.get("csrf_token")}
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        // textContent, never innerHTML: the claim's text is shown, never run.
        if (data && mine === seq) preview.textContent = data.text;
      }).catch(function () { /* keep the last preview */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  });
})();
