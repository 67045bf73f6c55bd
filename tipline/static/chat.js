// The web chat: sends what the reader types to /api/messages and shows the tipline's reply.
// Replies come with their WhatsApp formatting already rendered by the server
// (tipline.whatsapp.to_html: escaped first, then only <strong>, <em>, <s>, <code> and links),
// the same rendering as the editors' preview; what the reader types is shown as text.
(function () {
  "use strict";

  // The page comes in one language (the server's choice: the switch, else the browser's);
  // PAGE holds the few words this script shows itself, in that language.
  var PAGE = JSON.parse(document.getElementById("page-data").textContent);
  var chat = document.getElementById("chat");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
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
  // The language the reader chose with the switch (kept in their session by the server):
  // replies come in it. Not chosen: each reply follows the language of the message.
  function chosen() { return PAGE.chosen; }
  function lang() { return document.documentElement.lang; }

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

  function words() { return PAGE.words; }

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
      fetch("api/followup/" + encodeURIComponent(code) + "?lang=" + lang()).then(function (response) {
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

  function greet() {
    if (welcome) { welcome.remove(); }
    welcome = bubble("in", "", PAGE.greeting_html);
    chat.insertBefore(welcome, chat.children[1] || null);
  }

  // The switch is a form (it works without script too, reloading the page); here it keeps the
  // conversation: the server sets the language, and the page's words are taken from the page
  // as the server now renders it, so that no second language ever sits in this one.
  function switchLanguage(switchForm) {
    fetch(switchForm.action, {
      method: "POST", body: new FormData(switchForm), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return fetch(window.location.href, { credentials: "same-origin" });
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      var data = fresh.getElementById("page-data").textContent;
      PAGE = JSON.parse(data);
      document.getElementById("page-data").textContent = data; // the old words go altogether
      document.documentElement.lang = fresh.documentElement.lang;
      document.title = fresh.title;
      Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (node) {
        var now = fresh.querySelector('[data-t="' + node.getAttribute("data-t") + '"]');
        if (now) { node.textContent = now.textContent; }
      });
      ["header.bar", "#chips", "footer.foot"].forEach(function (selector) {
        var old = document.querySelector(selector), now = fresh.querySelector(selector);
        if (old && now) { old.replaceWith(document.importNode(now, true)); }
      });
      var freshInput = fresh.getElementById("message");
      input.placeholder = freshInput.placeholder;
      sendButton.setAttribute("aria-label", fresh.getElementById("send").getAttribute("aria-label"));
      greet();
      var toggle = document.getElementById("lang-toggle");
      if (toggle) { toggle.focus(); }
    }).catch(function () {
      switchForm.submit(); // the plain form: the page reloads in the new language
    });
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
      body: JSON.stringify(chosen() ? { text: text, session: session, lang: chosen() }
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
  // On the document: the chips and the switch are replaced when the language changes.
  document.addEventListener("click", function (event) {
    if (event.target.classList.contains("chip")) { send(event.target.textContent); }
  });
  document.addEventListener("submit", function (event) {
    if (event.target.id === "lang-form") {
      event.preventDefault();
      switchLanguage(event.target);
    }
  });

  greet();
  checkFollowups();
})();
