// Recount the case page's running SLA clocks (#clocks [data-due-at]) every 30 seconds.
// The server decided the rest (at-risk needs the policy's business hours), so only the
// wording and "overdue" change. Looks the clocks up each time: htmx swaps them in and out.
(function () {
  "use strict";
  function words(ms) {
    var minutes = Math.floor(ms / 60000), hours = Math.floor(minutes / 60), days = Math.floor(hours / 24);
    if (minutes < 1) return "less than 1 min";
    if (days) return hours % 24 ? days + " d " + (hours % 24) + " h" : days + " d";
    if (hours) return minutes % 60 ? hours + " h " + (minutes % 60) + " min" : hours + " h";
    return minutes + " min";
  }
  function recount() {
    var clocks = document.querySelectorAll("#clocks [data-due-at]");
    for (var i = 0; i < clocks.length; i++) {
      var clock = clocks[i], left = Date.parse(clock.dataset.dueAt) - Date.now();
      var countdown = clock.querySelector(".clock-countdown");
      if (left > 0) { countdown.textContent = "due in " + words(left); continue; }
      countdown.textContent = "overdue by " + words(-left);
      clock.className = "clock clock-breached";
      clock.querySelector(".clock-badge").textContent = "Breached";
    }
  }
  window.setInterval(recount, 30000);
})();
