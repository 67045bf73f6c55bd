// The editors' pages: ticking groups and the live WhatsApp preview. No inline script. (The
// language switch is a form: the server renders each page in one language.)
(function () {
  "use strict";

  var tickAll = document.getElementById("tick-all");
  if (tickAll) {
    tickAll.addEventListener("change", function () {
      Array.prototype.forEach.call(document.querySelectorAll("input.tick"), function (box) {
        box.checked = tickAll.checked;
      });
    });
  }

  var form = document.getElementById("claim-form");
  var preview = document.getElementById("preview");
  var chars = document.getElementById("preview-chars");
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
        // The server's rendering (tipline.whatsapp.to_html, the web chat's too): escaped
        // first, then only WhatsApp's bold, italic, strike, mono and links.
        if (data && mine === seq) {
          preview.innerHTML = data.html;
          if (chars) chars.textContent = data.chars;
        }
      }).catch(function () { /* keep the last preview */ });
  }
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  });

  // The duplicate check: the library's closest fact-checks to the title and claim, by the
  // tipline's own search, asked for once typing pauses.
  var similar = document.getElementById("similar");
  var list = document.getElementById("similar-list");
  var answerTag = document.getElementById("answer-tag");
  if (!similar || !list) return;
  var simTimer = null, simSeq = 0, asked = null;
  function text() { return (form.elements.title.value + " " + form.elements.claim.value).trim(); }
  function show(data) {
    similar.dataset.decision = data.decision || "";
    while (list.firstChild) list.removeChild(list.firstChild);
    data.items.forEach(function (item) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = item.edit; link.target = "_blank"; link.rel = "noopener";
      link.textContent = item.title;
      var verdict = document.createElement("span");
      verdict.className = "verdict v-" + item.verdict;
      verdict.textContent = item.label;
      li.appendChild(link); li.appendChild(document.createTextNode(" ")); li.appendChild(verdict);
      if (item.answer && answerTag) {
        var tag = answerTag.cloneNode(true);
        tag.removeAttribute("id"); tag.hidden = false;
        li.appendChild(document.createTextNode(" ")); li.appendChild(tag);
      }
      list.appendChild(li);
    });
  }
  function lookUp() {
    var now = text();
    if (now === asked) return;
    asked = now;
    var mine = ++simSeq;
    var body = new FormData(form);
    fetch(similar.dataset.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRF-Token": body.get("csrf_token")}
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && mine === simSeq) show(data); })
      .catch(function () { asked = null; /* try again on the next pause */ });
  }
  asked = text();  // what the server already looked up for this page
  form.addEventListener("input", function (event) {
    if (event.target.name !== "title" && event.target.name !== "claim") return;
    clearTimeout(simTimer);
    simTimer = setTimeout(lookUp, 600);
  });
})();
