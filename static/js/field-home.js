// The field-mode page (templates/field/home.html): the outbox of this tablet drawn from IndexedDB
// through window.fieldOutbox (static/js/outbox.js), and the "Take offline" toggles, which ask the
// service worker to keep a form. Texts come from the page's JSON (#field-home-strings).
(function () {
  "use strict";

  const box = document.querySelector("[data-field-outbox]");
  const outbox = window.fieldOutbox;
  if (!box || !outbox) { return; }
  const S = JSON.parse(document.getElementById("field-home-strings").textContent);
  const T = JSON.parse(document.getElementById("field-config").textContent).strings;
  const lang = document.documentElement.lang;
  const when = new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short" });
  const time = new Intl.DateTimeFormat(lang, { timeStyle: "short" });
  const list = box.querySelector("[data-field-items]");
  const summary = box.querySelector("[data-field-summary]");
  const stateLine = box.querySelector("[data-field-state]");
  const login = box.querySelector("[data-field-login]");
  const sent = box.querySelector("[data-field-sent]");

  function fill(s, values) {
    Object.keys(values).forEach((k) => { s = s.split("{" + k + "}").join(String(values[k])); });
    return s;
  }

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content) { node.textContent = content; }
    return node;
  }

  function button(label, describedBy, action) {
    const b = el("button", "button button-small", label);
    b.type = "button";
    b.setAttribute("aria-describedby", describedBy);
    b.addEventListener("click", action);
    return b;
  }

  function row(item) {
    const li = el("li", "field-item field-item-" + item.status);
    const id = "field-item-" + item.client_id;
    const mine = outbox.isMine(item);
    const title = el("p", "field-item-title");
    title.id = id;
    title.append(el("strong", null, item.title));
    title.append(" · ", el("span", "field-item-status", mine ? T["status_" + item.status] : T.status_other_user));
    li.append(title);
    li.append(el("p", "muted", fill(S.recorded_at, { date: when.format(new Date(item.created_at)) })));
    if (!mine) {
      li.append(el("p", null, S.other_user));
    } else if (item.message) {
      li.append(el("p", "field-item-message", item.message));
    }
    if (mine && item.status !== "sending") {
      const actions = el("div", "actions");
      if (item.status === "rejected" || item.status === "conflict") {
        actions.append(button(S.send_again, id, () => outbox.retry(item.client_id)));
      }
      actions.append(button(S.delete, id, () => {
        if (window.confirm(T.confirm_delete)) { outbox.remove(item.client_id); }
      }));
      li.append(actions);
    }
    return li;
  }

  async function render(detail) {
    const { items, state } = detail;
    summary.textContent = items.length ? fill(T.count, { count: items.length }) : T.nothing;
    // The list is rebuilt on every change (sending, another tab): keep a keyboard or screen-reader
    // user where they were, or on the summary when their row went away (sent or deleted).
    const focused = list.contains(document.activeElement) ? document.activeElement : null;
    const was = focused && [focused.getAttribute("aria-describedby"), focused.textContent];
    list.replaceChildren(...items.map(row));
    if (was) {
      const again = Array.from(list.querySelectorAll("button"))
        .find((b) => b.getAttribute("aria-describedby") === was[0] && b.textContent === was[1]);
      if (again) { again.focus(); } else { summary.setAttribute("tabindex", "-1"); summary.focus(); }
    }
    list.hidden = !items.length;
    login.hidden = state.paused !== "login";
    let line = "";
    if (state.paused === "login") {
      line = T.login;
    } else if (state.paused === "offline" && items.length) {
      line = T.offline + (state.nextTry ? " " + fill(S.next_try, { time: time.format(new Date(state.nextTry)) }) : "");
    } else if (state.sending && items.length) {
      line = T.sending;
    }
    if (stateLine.textContent !== line) { stateLine.textContent = line; }
    const log = await outbox.sentLog();
    sent.textContent = log.count ? fill(S.sent_count, { count: log.count }) : "";
  }

  document.addEventListener("outbox:change", (event) => { render(event.detail); });
  box.hidden = false;
  outbox.changed(false);

  box.querySelector("[data-field-send]").addEventListener("click", () => { outbox.sendAll(); });
  box.querySelector("[data-field-export]").addEventListener("click", async () => {
    stateLine.textContent = S.exporting;
    await outbox.exportFile();
    stateLine.textContent = T.exported;
  });

  // --- forms taken offline ---
  const forms = Array.from(document.querySelectorAll("[data-offline-form]"));

  function show(li, on, message) {
    const toggle = li.querySelector("[data-take-offline]");
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    li.classList.toggle("is-offline", on);
    li.querySelector("[data-offline-state]").textContent = message;
  }

  outbox.offlineUrls().then((urls) => {
    forms.forEach((li) => {
      const url = li.getAttribute("data-offline-form");
      const toggle = li.querySelector("[data-take-offline]");
      toggle.hidden = false;
      show(li, urls.indexOf(url) !== -1, urls.indexOf(url) !== -1 ? S.kept : "");
      toggle.addEventListener("click", async () => {
        const on = toggle.getAttribute("aria-pressed") !== "true";
        toggle.disabled = true;
        li.querySelector("[data-offline-state]").textContent = on ? S.keeping : "";
        const ok = await outbox.takeOffline(url, on);
        toggle.disabled = false;
        if (on) { show(li, ok, ok ? S.kept : S.not_kept); } else { show(li, false, S.dropped); }
      });
    });
  });

  // This page is where an offline tablet sends and exports from: keep it too, and refresh the
  // forms already kept while there is a connection (fresh lists of walks, meetings...).
  if (navigator.onLine) {
    outbox.takeOffline(window.location.pathname, true).then(() => outbox.refreshOffline());
  }
})();
