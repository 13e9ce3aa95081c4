// The field-mode questionnaire page (one page, one person per form), on top of a page that works
// without JavaScript:
// (1) sections and questions whose condition is not met are hidden, in order, so that
//     conditions cascade as on the server (which still drops what they skip, and says so);
// (2) only the part of "how the answers are collected" that applies is shown; photos are cleared
//     in paper mode (a paper form holds none);
// (3) before the form is queued or sent: a way of collecting is chosen, and, with the person,
//     every required question shown is answered (the person may be gone when the server checks);
// (4) after the outbox queued a form and reset it: the date, language, neighbourhood and way of
//     collecting stay for the next one; each fill (and each load of a page kept offline) gets a
//     fresh one-time nonce.
(function () {
  "use strict";

  var form = document.querySelector("form.qf-form");
  if (!form) { return; }
  var STICKY = ["mode", "paper_date", "form_locale", "picked"];

  function checkedValues(name) {
    var values = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name !== name) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      if (el.value) { values.push(el.value); }
    });
    return values;
  }

  function mode() {
    return checkedValues("mode")[0] || "";
  }

  // --- (1) conditions ------------------------------------------------------------------------
  function conditionMet(el, visible) {
    var field = el.getAttribute("data-qf-when");
    if (!field) { return true; }
    if (!visible[field]) { return false; } // a hidden question's answer does not count
    var wanted = JSON.parse(el.getAttribute("data-qf-values") || "[]");
    return checkedValues(field).some(function (v) { return wanted.indexOf(v) !== -1; });
  }

  function applyConditions() {
    var visible = {};
    var paper = mode() === "paper";
    Array.prototype.forEach.call(form.querySelectorAll("[data-qf-section]"), function (section) {
      var shown = conditionMet(section, visible);
      Array.prototype.forEach.call(section.querySelectorAll("[data-qf-question]"), function (q) {
        var on = shown && conditionMet(q, visible);
        visible[q.getAttribute("data-qf-question")] = on;
        q.hidden = !on || (paper && q.getAttribute("data-qf-kind") === "photo");
      });
      section.hidden = !shown || !section.querySelector("[data-qf-question]:not([hidden])");
    });
    return visible;
  }

  // --- (2) the way of collecting -----------------------------------------------------------------
  function applyMode() {
    var current = mode();
    Array.prototype.forEach.call(form.querySelectorAll("[data-qf-mode]"), function (part) {
      part.hidden = part.getAttribute("data-qf-mode") !== current;
    });
    if (current === "paper") {
      Array.prototype.forEach.call(form.querySelectorAll("[data-qf-kind='photo'] input[type='file']"), function (input) {
        input.value = "";
      });
    }
  }

  function refresh() {
    applyMode();
    applyConditions();
  }

  // --- (3) checks before the form leaves -----------------------------------------------------------
  var summary = document.getElementById("qf-check");

  function answered(q) {
    var prefix = q.getAttribute("data-qf-question");
    return Array.prototype.some.call(form.elements, function (el) {
      if (!el.name || (el.name !== prefix && el.name.indexOf(prefix + "_") !== 0)) { return false; }
      if (el.type === "radio" || el.type === "checkbox") { return el.checked; }
      if (el.type === "file") { return el.files && el.files.length > 0; }
      return el.value.trim() !== "";
    });
  }

  // The required questions shown and left empty, when collecting with the person.
  function unanswered() {
    var found = [];
    Array.prototype.forEach.call(form.querySelectorAll("[data-qf-required]"), function (q) {
      if (q.hidden || q.closest("[data-qf-section]").hidden || answered(q)) { return; }
      var legend = q.querySelector(".q-text");
      found.push((legend ? legend.textContent : "").replace(/\s+/g, " ").trim());
    });
    return found;
  }

  function report(message, items) {
    while (summary.firstChild) { summary.removeChild(summary.firstChild); }
    var lead = document.createElement("p");
    lead.textContent = message;
    summary.appendChild(lead);
    if (items.length) {
      var list = document.createElement("ul");
      items.forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        list.appendChild(item);
      });
      summary.appendChild(list);
    }
    summary.hidden = false;
    summary.focus();
  }

  // Why the form may not leave yet, or null.
  function blocked() {
    if (!mode()) { return [form.getAttribute("data-msg-mode"), []]; }
    var missing = mode() === "assisted" ? unanswered() : [];
    return missing.length ? [form.getAttribute("data-msg-required"), missing] : null;
  }

  // On the window, in the capture phase: before the outbox (at the document) takes the form.
  window.addEventListener("submit", function (event) {
    if (event.target !== form) { return; }
    refresh();
    var why = blocked();
    if (why) {
      // The outbox leaves alone a submission already cancelled.
      event.preventDefault();
      report(why[0], why[1]);
      return;
    }
    summary.hidden = true;
    remember();
  }, true);

  // --- (4) the next form -----------------------------------------------------------------------
  var kept = {};

  function remember() {
    STICKY.forEach(function (name) { kept[name] = checkedValues(name)[0] || ""; });
  }

  function today() {
    var d = new Date();
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function freshNonce() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function restore() {
    STICKY.forEach(function (name) {
      var value = kept[name];
      if (value === undefined) { return; }
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name !== name) { return; }
        if (el.type === "radio" || el.type === "checkbox") { el.checked = el.value === value; } else { el.value = value; }
      });
    });
    renewNonce();
    refresh();
  }

  // A page kept offline comes back with the nonce it was rendered with: each fill gets its own.
  function renewNonce() {
    var nonce = form.elements.namedItem("nonce");
    if (nonce && window.crypto && window.crypto.getRandomValues) { nonce.value = freshNonce(); }
  }

  form.addEventListener("reset", function () { window.setTimeout(restore, 0); });
  form.addEventListener("outbox:queued", function () {
    summary.hidden = true;
    window.setTimeout(restore, 0);
  });

  // A page kept offline for days: the date of a paper form defaults to the device's today.
  // (the server's today, when the page was rendered, is replaced; a date typed or kept is not).
  var day = form.querySelector("[data-qf-today]");
  if (day && (!day.value || day.value === day.getAttribute("data-qf-today"))) {
    day.defaultValue = today();
    day.value = today();
  }

  form.addEventListener("change", refresh);
  renewNonce();
  refresh();
})();
