// Small enhancements on top of pages that already work without JavaScript.
(function () {
  "use strict";
  // htmx 2 does not swap 4xx/5xx answers: show the translated error page's message instead
  // of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var message = doc.querySelector(".error-message");
    var target = event.detail.target;
    if (!message || !target) { return; }
    var box = document.createElement("p");
    box.className = "error";
    box.setAttribute("role", "alert");
    box.textContent = message.textContent;
    target.prepend(box);
  });
})();
