// The web chat: sends what the reader types to /api/messages and shows the tipline's reply.
// Replies use WhatsApp formatting; they are turned into DOM nodes, never into HTML strings,
// so a fact-check title with "<script>" in it shows as text.
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
  var lang = stored("cekfakta.lang", function () { return "id"; });
  if (!PAGE[lang]) { lang = "id"; }

  // WhatsApp formatting: *bold*, _italic_, ~strike~, ```mono``` and bare links.
  var TOKEN = new RegExp(
    "(https?://[^\\s<>\"]*[^\\s<>\".,;:!?')\\]])" +
    "|(```)([^]+?)```" +
    "|(?<![\\p{L}\\p{N}])([*_~])(?!\\s)(.+?)(?<!\\s)\\4(?![\\p{L}\\p{N}])",
    "gu"
  );
  var TAGS = { "*": "strong", "_": "em", "~": "s" };

  function renderFormatted(text, parent) {
    var last = 0;
    var found;
    TOKEN.lastIndex = 0;
    var pieces = [];
    while ((found = TOKEN.exec(text)) !== null) {
      pieces.push([found.index, found[0].length, found.slice(1)]);
    }
    pieces.forEach(function (piece) {
      var start = piece[0], length = piece[1], groups = piece[2];
      if (start > last) {
        parent.appendChild(document.createTextNode(text.slice(last, start)));
      }
      var node;
      if (groups[0]) {
        node = document.createElement("a");
        node.href = groups[0];
        node.target = "_blank";
        node.rel = "noopener noreferrer nofollow";
        node.textContent = groups[0];
      } else if (groups[1]) {
        node = document.createElement("code");
        node.textContent = groups[2];
      } else {
        node = document.createElement(TAGS[groups[3]]);
        renderFormatted(groups[4], node);
      }
      parent.appendChild(node);
      last = start + length;
    });
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function clock() {
    var now = new Date();
    return ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
  }

  function bubble(kind, text) {
    var node = document.createElement("div");
    node.className = "msg " + kind;
    var body = document.createElement("span");
    body.className = "body";
    if (kind === "in") {
      renderFormatted(text, body);
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
    welcome = bubble("in", w.greeting);
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
      body: JSON.stringify({ text: text, session: session })
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (data) {
      typing.remove();
      bubble("in", data.reply);
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
    try { window.localStorage.setItem("cekfakta.lang", lang); } catch (e) { /* blocked */ }
    applyLang();
  });

  applyLang();
})();
