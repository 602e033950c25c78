// Ask before a form with data-confirm="Question?" is sent: the CSP-safe onsubmit="confirm(…)".
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
