// Single-key shortcuts for logged-in pages, ignored while typing so they never eat a letter.
// Loaded from base.html: the Content Security Policy allows no inline script.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function focusId(id) {
    var el = document.getElementById(id);
    if (el) { el.focus(); if (el.select && el.type === "search") el.select(); return true; }
    return false;
  }
  function follow(selector) {
    var link = document.querySelector(selector);
    if (!link) return false;
    window.location.href = link.href;
    return true;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(document.activeElement)) { document.activeElement.blur(); return; }
    if (typing(event.target)) return;
    var handled = false;
    if (event.key === "/") handled = focusId("inbox-search") || focusId("global-search");
    else if (event.key === "c") handled = follow("#new-case-link");
    else if (event.key === "r") handled = focusId("reply-customer");
    else if (event.key === "n") handled = focusId("note-text");
    else if (event.key === "i") handled = follow(".topbar a.brand");
    if (handled) event.preventDefault();
  });
})();
