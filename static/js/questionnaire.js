// Answering a questionnaire, on top of pages that work without JavaScript:
// (1) the answers stay on the device until they are sent (a reload loses nothing),
// (2) read-aloud buttons, shown only where the browser can speak,
// (3) questions that depend on an answer of the same screen appear and disappear live.
// The server remains the authority on every rule.
(function () {
  "use strict";

  // --- (1) drafts kept in localStorage --------------------------------------------------
  var NOT_SAVED = { csrf_token: true, nonce: true, go: true };

  function store() {
    try {
      var s = window.localStorage;
      s.getItem("questionnaire:test");
      return s;
    } catch (e) {
      return null; // private browsing, storage disabled: the page still works
    }
  }

  function readDraft(s, key) {
    try {
      return JSON.parse(s.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  function kept(el) {
    return el.name && !NOT_SAVED[el.name] && !el.disabled &&
      ["file", "submit", "button", "reset"].indexOf(el.type) === -1;
  }

  function snapshot(form) {
    var entries = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      entries.push([el.name, el.value]);
    });
    return { step: form.getAttribute("data-step"), entries: entries };
  }

  // Only the inputs of this screen: hidden fields come from the server, which knows them.
  function restore(form, draft) {
    var byName = {};
    draft.entries.forEach(function (e) { (byName[e[0]] = byName[e[0]] || []).push(e[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el) || el.type === "hidden") { return; }
      var values = byName[el.name];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = !!values && values.indexOf(el.value) !== -1;
      } else if (values) {
        el.value = values[0];
      }
    });
  }

  var s = store();
  var form = document.querySelector("form[data-draft-key]");
  if (s && form) {
    var key = form.getAttribute("data-draft-key");
    var draft = readDraft(s, key);
    if (draft && draft.step === form.getAttribute("data-step")) { restore(form, draft); }
    var save = function () {
      try { s.setItem(key, JSON.stringify(snapshot(form))); } catch (e) { /* storage full */ }
    };
    save();
    form.addEventListener("input", save);
    form.addEventListener("change", save);
  }

  // The start page: offer to go on from the draft (re-posted, so the server shows the right screen).
  var resume = document.querySelector("form[data-resume-key]");
  if (s && resume) {
    var resumeKey = resume.getAttribute("data-resume-key");
    var saved = readDraft(s, resumeKey);
    if (saved && saved.entries && saved.entries.length) {
      resume.hidden = false;
      resume.addEventListener("submit", function () {
        saved.entries.forEach(function (e) {
          if (NOT_SAVED[e[0]]) { return; }
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = e[0];
          input.value = e[1];
          resume.appendChild(input);
        });
      });
      resume.querySelector(".q-discard").addEventListener("click", function () {
        s.removeItem(resumeKey);
        resume.hidden = true;
      });
    }
  }

  // The thanks page: the answers are sent, forget the draft.
  var done = document.querySelector("[data-draft-clear]");
  if (s && done) {
    var prefix = done.getAttribute("data-draft-clear");
    for (var i = s.length - 1; i >= 0; i--) {
      var k = s.key(i);
      if (k && k.indexOf(prefix) === 0) { s.removeItem(k); }
    }
  }

  // --- (2) read aloud -------------------------------------------------------------------
  var synth = window.speechSynthesis;
  if (synth && typeof window.SpeechSynthesisUtterance === "function") {
    Array.prototype.forEach.call(document.querySelectorAll("button.read-aloud"), function (b) { b.hidden = false; });
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button.read-aloud") : null;
      var target = button && document.getElementById(button.getAttribute("data-read"));
      if (!target) { return; }
      var copy = target.cloneNode(true);
      Array.prototype.forEach.call(copy.querySelectorAll(".original-note"), function (n) { n.remove(); });
      var utterance = new window.SpeechSynthesisUtterance(copy.textContent.replace(/\s+/g, " ").trim());
      // Text shown in its original language (not translated yet) is read in that language.
      var marked = target.querySelector("[lang]");
      utterance.lang = (marked && marked.getAttribute("lang")) || document.documentElement.lang;
      synth.cancel();
      synth.speak(utterance);
    });
  }

  // --- (3) conditions inside one screen ---------------------------------------------------
  function given(f, name) {
    var values = [];
    Array.prototype.forEach.call(f.elements, function (el) {
      if (el.name !== name) { return; }
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      if (el.value) { values.push(el.value); }
    });
    return values;
  }

  function applyConditions(f) {
    Array.prototype.forEach.call(f.querySelectorAll("[data-condition-field]"), function (q) {
      var wanted = JSON.parse(q.getAttribute("data-condition-values") || "[]");
      var answers = given(f, q.getAttribute("data-condition-field"));
      q.hidden = !answers.some(function (v) { return wanted.indexOf(v) !== -1; });
      var note = q.querySelector(".q-condition-note");
      if (note) { note.hidden = true; }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.q-form"), function (f) {
    applyConditions(f);
    f.addEventListener("change", function () { applyConditions(f); });
  });

  // --- location ---------------------------------------------------------------------------
  if (navigator.geolocation) {
    Array.prototype.forEach.call(document.querySelectorAll("button.q-locate-button"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var status = document.getElementById(button.getAttribute("data-status"));
        navigator.geolocation.getCurrentPosition(function (position) {
          ["lat", "lng"].forEach(function (part) {
            var input = document.getElementById(button.getAttribute("data-" + part));
            input.value = (part === "lat" ? position.coords.latitude : position.coords.longitude).toFixed(3);
            input.dispatchEvent(new Event("change", { bubbles: true }));
          });
          status.textContent = button.getAttribute("data-found");
        }, function () {
          status.textContent = button.getAttribute("data-failed");
        }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
      });
    });
  }
})();
