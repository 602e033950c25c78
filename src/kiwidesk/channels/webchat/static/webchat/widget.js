/* Kiwidesk web chat: <script src=".../channels/chat/widget.js" data-team="SLUG" async></script>
 * adds a chat button and panel to any page. Plain JavaScript, no build step. Everything
 * lives in a shadow root, so the host page's styles and ours never meet. Text from the
 * server is only ever set with textContent. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__kiwideskChat) {
    return;
  }
  window.__kiwideskChat = true;

  var base = script.src.replace(/widget\.js(\?.*)?$/, "");
  var team = script.getAttribute("data-team") || "";
  var tokenKey = "kiwidesk-chat:" + base + ":" + team;
  var seenKey = tokenKey + ":seen";
  var token = read(tokenKey);
  var source = null;
  var shown = {};
  var newest = 0;
  var unread = 0;
  var failures = 0;
  var ending = false;

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; font-family: system-ui, sans-serif; font-size: 15px; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;",
    "  border: 0; border-radius: 24px; padding: 12px 20px; background: #1f6f43; color: #fff;",
    "  cursor: pointer; box-shadow: 0 2px 8px rgba(0,0,0,.25); }",
    ".launcher:focus-visible, button:focus-visible, textarea:focus-visible,",
    "  input:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }",
    ".panel { position: fixed; right: 20px; bottom: 76px; z-index: 2147483000; width: 340px;",
    "  max-width: calc(100vw - 40px); height: 480px; max-height: calc(100vh - 100px);",
    "  display: flex; flex-direction: column; background: #fff; color: #1b1b1b;",
    "  border: 1px solid #c8c8c8; border-radius: 10px; box-shadow: 0 4px 16px rgba(0,0,0,.25); }",
    ".panel[hidden] { display: none; }",
    "header { display: flex; align-items: center; gap: 8px; padding: 10px 12px;",
    "  background: #1f6f43; color: #fff; border-radius: 10px 10px 0 0; }",
    "h2 { flex: 1; margin: 0; font-size: 16px; }",
    "header button { background: transparent; color: #fff; border: 1px solid #fff;",
    "  border-radius: 6px; padding: 4px 8px; cursor: pointer; font-size: 13px; }",
    ".log { flex: 1; overflow-y: auto; margin: 0; padding: 12px; list-style: none; }",
    ".log li { margin: 0 0 10px; max-width: 85%; padding: 8px 10px; border-radius: 8px;",
    "  white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".log .from-visitor { margin-left: auto; background: #e3f1e8; }",
    ".log .from-agent { background: #f0f0f0; }",
    ".author { display: block; font-size: 12px; color: #555; margin-bottom: 2px; }",
    ".status { margin: 0; padding: 4px 12px; font-size: 13px; color: #555; min-height: 1em; }",
    ".status.error { color: #a40000; }",
    "form { display: flex; gap: 6px; padding: 8px 12px; border-top: 1px solid #e0e0e0; }",
    "form.identify, form.confirm { flex-wrap: wrap; }",
    "form.identify label, form.confirm label { width: 100%; font-size: 13px; }",
    "form[hidden] { display: none; }",
    ".visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;",
    "  clip: rect(0 0 0 0); white-space: nowrap; }",
    "textarea, input { flex: 1; min-width: 0; padding: 6px 8px; border: 1px solid #888;",
    "  border-radius: 6px; resize: none; }",
    "form button { border: 0; border-radius: 6px; padding: 6px 12px; background: #1f6f43;",
    "  color: #fff; cursor: pointer; }"
  ].join("\n");

  function read(key) {
    try {
      return window.localStorage.getItem(key) || "";
    } catch (error) {
      return "";
    }
  }

  function write(key, value) {
    try {
      if (value) {
        window.localStorage.setItem(key, value);
      } else {
        window.localStorage.removeItem(key);
      }
    } catch (error) {
      /* storage blocked: the chat still works for this page */
    }
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  var host = element("div", { "data-kiwidesk-chat": "" });
  var root = host.attachShadow({ mode: "open" });
  var style = element("style");
  style.textContent = CSS;
  var launcher = element("button", {
    type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": "kd-panel"
  }, "Chat with us");
  var panel = element("section", {
    id: "kd-panel", "class": "panel", role: "dialog", "aria-labelledby": "kd-title", hidden: ""
  });
  var header = element("header");
  var title = element("h2", { id: "kd-title" }, "Chat with support");
  var endButton = element("button", { type: "button" }, "End chat");
  var closeButton = element("button", { type: "button", "aria-label": "Close the chat window" }, "Close");
  var log = element("ol", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  var status = element("p", { "class": "status", role: "status" });
  var identifyForm = element("form", { "class": "identify" });
  var emailLabel = element("label", { "for": "kd-email" }, "Your email, so we can answer if you leave");
  var email = element("input", { id: "kd-email", type: "email", autocomplete: "email" });
  var emailButton = element("button", { type: "submit" }, "Send me a code");
  var confirmForm = element("form", { "class": "confirm", hidden: "" });
  var codeLabel = element("label", { "for": "kd-code" }, "The 6-digit code we emailed you");
  var code = element("input", {
    id: "kd-code", type: "text", inputmode: "numeric", autocomplete: "one-time-code",
    maxlength: "6", pattern: "[0-9]{6}"
  });
  var codeButton = element("button", { type: "submit" }, "Confirm");
  var form = element("form");
  var textLabel = element("label", { "for": "kd-text", "class": "visually-hidden" }, "Your message");
  var text = element("textarea", { id: "kd-text", rows: "2", maxlength: "4000" });
  var sendButton = element("button", { type: "submit" }, "Send");

  header.append(title, endButton, closeButton);
  identifyForm.append(emailLabel, email, emailButton);
  confirmForm.append(codeLabel, code, codeButton);
  form.append(textLabel, text, sendButton);
  panel.append(header, log, status, identifyForm, confirmForm, form);
  root.append(style, launcher, panel);

  function say(message, isError) {
    status.textContent = message;
    status.className = isError ? "status error" : "status";
  }

  function request(path, body) {
    var headers = { "Content-Type": "application/json" };
    if (token) {
      headers.Authorization = "Bearer " + token;
    }
    return fetch(base + path, {
      method: "POST", mode: "cors", credentials: "omit", headers: headers,
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || "The chat is not available right now.");
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function ensureChat() {
    if (token) {
      return Promise.resolve();
    }
    return request("sessions/", { team: team }).then(function (data) {
      token = data.token;
      write(tokenKey, token);
      listen();
    });
  }

  function forget() {
    if (source) {
      source.close();
      source = null;
    }
    token = "";
    write(tokenKey, "");
    /* A new chat starts unconfirmed: the address is proved again with a new code. */
    identifyForm.hidden = false;
    confirmForm.hidden = true;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function show(entry) {
    if (!entry || shown[entry.id]) {
      return;
    }
    shown[entry.id] = true;
    var item = element("li", { "class": "from-" + entry.from });
    item.append(element("span", { "class": "author" }, entry.author), document.createTextNode(entry.text));
    log.append(item);
    log.scrollTop = log.scrollHeight;
    newest = Math.max(newest, entry.id);
    if (entry.from === "agent" && panel.hidden && entry.id > Number(read(seenKey) || 0)) {
      unread += 1;
      launcher.textContent = "Chat with us (" + unread + " new)";
    }
    if (!panel.hidden) {
      write(seenKey, String(newest));
    }
  }

  function listen() {
    if (source || !token || !window.EventSource) {
      return;
    }
    source = new EventSource(base + "stream/?token=" + encodeURIComponent(token));
    source.onmessage = function (event) {
      show(JSON.parse(event.data));
    };
    source.addEventListener("ended", function () {
      forget();
      if (!ending) {
        say("This chat has ended. Write again to start a new one.");
      }
    });
    source.onopen = function () {
      failures = 0;
    };
    source.onerror = function () {
      /* CONNECTING: the browser retries by itself, resuming after the last event id.
         CLOSED: the server answered with an error. Try again later, a little later each
         time; a chat that is gone for good is forgotten when a post is refused. */
      if (source && source.readyState === window.EventSource.CLOSED) {
        source = null;
        failures += 1;
        window.setTimeout(listen, Math.min(60000, 1000 * Math.pow(2, failures)));
      }
    };
  }

  function send(message, isRetry) {
    var id = newId();
    return ensureChat().then(function () {
      return request("messages/", { id: id, text: message });
    }).then(function (data) {
      show(data.entry);
    }).catch(function (error) {
      if ((error.status === 401 || error.status === 409) && !isRetry) {
        forget();
        return send(message, true);
      }
      throw error;
    });
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    unread = 0;
    launcher.textContent = "Chat with us";
    write(seenKey, String(newest));
    text.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) {
      open();
    } else {
      close();
    }
  });
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      close();
    }
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var message = text.value;
    if (!message.trim()) {
      return;
    }
    sendButton.disabled = true;
    say("Sending…");
    send(message).then(function () {
      text.value = "";
      say("");
    }).catch(function (error) {
      say(error.message, true);
    }).then(function () {
      sendButton.disabled = false;
      text.focus();
    });
  });
  identifyForm.addEventListener("submit", function (event) {
    event.preventDefault();
    emailButton.disabled = true;
    ensureChat().then(function () {
      return request("identify/", { email: email.value });
    }).then(function (data) {
      codeLabel.textContent = "The 6-digit code we emailed to " + data.code_sent_to;
      confirmForm.hidden = false;
      code.value = "";
      code.focus();
      say("We emailed a code to " + data.code_sent_to + ". It expires in " +
        data.expires_minutes + " minutes.");
    }).catch(function (error) {
      say(error.message, true);
    }).then(function () {
      emailButton.disabled = false;
    });
  });
  confirmForm.addEventListener("submit", function (event) {
    event.preventDefault();
    codeButton.disabled = true;
    request("confirm/", { code: code.value }).then(function (data) {
      confirmForm.hidden = true;
      identifyForm.hidden = true;
      say("Thank you: " + data.email + " is confirmed. If you leave, we will answer there.");
      text.focus();
    }).catch(function (error) {
      say(error.message, true);
      code.select();
    }).then(function () {
      codeButton.disabled = false;
    });
  });
  endButton.addEventListener("click", function () {
    if (!token) {
      close();
      return;
    }
    ending = true;
    request("end/").then(function (data) {
      forget();
      say(data.transcript_to
        ? "Chat ended. A transcript is on its way to " + data.transcript_to + "."
        : "Chat ended. Thank you!");
    }).catch(function (error) {
      say(error.message, true);
    }).then(function () {
      ending = false;
    });
  });

  function mount() {
    document.body.append(host);
    listen();
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
