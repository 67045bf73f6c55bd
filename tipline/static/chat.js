// The web chat: sends what the reader types to /api/messages and shows the tipline's reply.
// Replies come with their WhatsApp formatting already rendered by the server
// (tipline.whatsapp.to_html: escaped first, then only <strong>, <em>, <s>, <code> and links),
// the same rendering as the editors' preview; what the reader types is shown as text.
(function () {
  "use strict";

  var PAGE = JSON.parse(document.getElementById("page-data").textContent);
  var chat = document.getElementById("chat");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var toggle = document.getElementById("lang-toggle");
  var chips = document.getElementById("chips");
  var welcome = null;

  function stored(key, make) {
    try {
      var value = window.localStorage.getItem(key);
      if (!value) {
        value = make();
        window.localStorage.setItem(key, value);
      }
      return value;
    } catch (e) {
      return make(); // storage blocked: keep it for this page only
    }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var session = stored("cekfakta.session", randomId);
  // The language the reader chose with the switch: replies come in it. Not chosen: each reply
  // follows the language of the message.
  var chosen = null;
  try { chosen = window.localStorage.getItem("cekfakta.lang"); } catch (e) { /* blocked */ }
  if (!PAGE[chosen]) { chosen = null; }
  var lang = chosen || "id";

  function clock() {
    var now = new Date();
    return ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
  }

  // kind "in": html is the server's rendering of a reply; otherwise text is shown as text.
  function bubble(kind, text, html) {
    var node = document.createElement("div");
    node.className = "msg " + kind;
    var body = document.createElement("span");
    body.className = "body";
    if (kind === "in") {
      body.innerHTML = html;
    } else {
      body.textContent = text;
    }
    node.appendChild(body);
    if (kind !== "error") {
      var time = document.createElement("span");
      time.className = "time";
      time.textContent = clock();
      node.appendChild(time);
    }
    chat.appendChild(node);
    chat.scrollTop = chat.scrollHeight;
    return node;
  }

  function words() { return PAGE[lang]; }

  function note(text) {
    var node = document.createElement("p");
    node.className = "notice paused";
    node.textContent = text;
    chat.appendChild(node);
    chat.scrollTop = chat.scrollHeight;
  }

  // Follow-up codes of questions left to the desk: the page asks for their answers when opened.
  var FOLLOWUPS = "cekfakta.followups";
  function followups() {
    try { return JSON.parse(window.localStorage.getItem(FOLLOWUPS) || "[]"); } catch (e) { return []; }
  }
  function keep(codes) {
    try { window.localStorage.setItem(FOLLOWUPS, JSON.stringify(codes.slice(-20))); } catch (e) { /* blocked */ }
  }
  function remember(code) {
    var codes = followups().filter(function (c) { return c !== code; });
    codes.push(code);
    keep(codes);
  }
  function forget(code) {
    keep(followups().filter(function (c) { return c !== code; }));
  }
  function checkFollowups() {
    followups().forEach(function (code) {
      fetch("api/followup/" + encodeURIComponent(code) + "?lang=" + lang).then(function (response) {
        if (response.status === 404) { forget(code); return null; }
        return response.ok ? response.json() : null;
      }).then(function (data) {
        if (!data) { return; }
        if (data.status === "answered") {
          note(words().answer_intro.replace("{question}", data.question));
          bubble("in", data.reply, data.html).classList.add("followup");
          forget(code);
        } else if (data.status === "closed") {
          forget(code);
        }
      }).catch(function () { /* try again next time */ });
    });
  }

  function applyLang() {
    var w = words();
    document.documentElement.lang = w.html_lang;
    document.title = w.title;
    Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (node) {
      node.textContent = w[node.getAttribute("data-t")];
    });
    input.placeholder = w.placeholder;
    sendButton.setAttribute("aria-label", w.send);
    toggle.textContent = w.toggle;
    toggle.setAttribute("aria-label", w.toggle_label);
    Array.prototype.forEach.call(chips.querySelectorAll(".chip"), function (chip, i) {
      chip.textContent = w.examples[i] || chip.textContent;
    });
    if (welcome) { welcome.remove(); }
    welcome = bubble("in", w.greeting, w.greeting_html);
    chat.insertBefore(welcome, chat.children[1] || null);
  }

  function send(text) {
    text = text.trim();
    if (!text) { return; }
    bubble("out", text);
    var typing = document.createElement("div");
    typing.className = "msg in typing";
    typing.textContent = words().typing;
    chat.appendChild(typing);
    chat.scrollTop = chat.scrollHeight;
    sendButton.disabled = true;
    fetch("api/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(chosen ? { text: text, session: session, lang: chosen }
                                  : { text: text, session: session })
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      typing.remove();
      if (data.reply) {
        bubble("in", data.reply, data.html);
      } else {
        note(words().paused); // past the rate limit's one notice: no reply, and no empty bubble
      }
      if (data.followup) { remember(data.followup); }
    }).catch(function () {
      typing.remove();
      bubble("error", words().error);
    }).then(function () {
      sendButton.disabled = false;
    });
  }

  function grow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    grow();
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener("input", grow);
  chips.addEventListener("click", function (event) {
    if (event.target.classList.contains("chip")) { send(event.target.textContent); }
  });
  toggle.addEventListener("click", function () {
    lang = lang === "id" ? "en" : "id";
    chosen = lang;
    try { window.localStorage.setItem("cekfakta.lang", lang); } catch (e) { /* blocked */ }
    applyLang();
  });

  applyLang();
  checkFollowups();
})();
