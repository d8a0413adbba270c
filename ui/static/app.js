// wf's UI: the little JavaScript it needs. The pages work without it; with it the workflow list
// refreshes itself, a workflow's page follows the run live (server-sent events), timeline bars open
// their events, actions ask for confirmation in a <dialog> and show their outcome in place.
"use strict";

function onReady(fn) {
  if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
}

// The workflow list: refresh the results every few seconds while on the first page.
function liveList() {
  const results = document.getElementById("results");
  if (!results || !results.dataset.live) return;
  setInterval(async () => {
    if (document.hidden) return;
    try {
      const r = await fetch(location.href, { headers: { "X-WF-Fragment": "results" } });
      if (r.ok) results.innerHTML = await r.text();
    } catch (e) { /* the server is away: keep what is shown */ }
  }, 5000);
}

// Load parts of a workflow's page that are slow to make (the stack, a long history's timeline).
function loadFragments() {
  document.querySelectorAll("[data-fragment-src]").forEach(async (el) => {
    try {
      const r = await fetch(el.dataset.fragmentSrc);
      el.innerHTML = await r.text();
      window.dispatchEvent(new CustomEvent("wf:content", { detail: el }));
    } catch (e) { /* the link inside stays */ }
  });
}

// "Next events": append the next page of the Event history in place.
function pagedEvents() {
  document.addEventListener("click", async (ev) => {
    const a = ev.target.closest("a.more[data-fragment]");
    if (!a) return;
    ev.preventDefault();
    const row = a.closest("tr");
    const r = await fetch(a.href);
    if (!r.ok) return;
    row.insertAdjacentHTML("afterend", await r.text());
    row.remove();
    window.dispatchEvent(new CustomEvent("wf:content", { detail: document.getElementById("event-rows") }));
  });
}

// A timeline bar shows or hides its events.
function timelineBars() {
  document.addEventListener("click", (ev) => {
    const bar = ev.target.closest("button.bar");
    if (!bar) return;
    const panel = document.getElementById(bar.getAttribute("aria-controls"));
    const open = bar.getAttribute("aria-expanded") !== "true";
    bar.setAttribute("aria-expanded", String(open));
    if (panel) panel.hidden = !open;
  });
}

function expandAll() {
  const button = document.getElementById("expand-all");
  if (!button) return;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(open));
    button.textContent = open ? "Compact view" : "Expanded view";
    document.querySelectorAll("details.event").forEach((d) => { d.open = open; });
  });
}

function copyButtons() {
  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button.copy");
    if (!b) return;
    try { await navigator.clipboard.writeText(b.dataset.copy); b.textContent = "Copied"; }
    catch (e) { b.textContent = "Select and copy"; }
    setTimeout(() => { b.textContent = "Copy"; }, 1500);
  });
}

// Follow an open run: new events are appended when the last page of events is shown, and the
// status word is updated; when the run closes, the page is fetched again for its result.
function liveWorkflow() {
  const article = document.querySelector("article.workflow[data-live]");
  if (!article || !window.EventSource) return;
  const status = document.getElementById("wf-status");
  const table = document.querySelector("table.events");
  const url = new URL(article.dataset.live, location.href);
  let refresh = null;
  const refreshParts = () => {
    clearTimeout(refresh);
    refresh = setTimeout(async () => {
      const r = await fetch(location.href);
      if (!r.ok) return;
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      for (const id of ["facts", "timeline", "pending"]) {
        const fresh = doc.getElementById(id), old = document.getElementById(id);
        if (fresh && old && !fresh.dataset.fragmentSrc) old.innerHTML = fresh.innerHTML;
      }
      const io = doc.querySelector("section.io"), oldIo = document.querySelector("section.io");
      if (io && oldIo) oldIo.innerHTML = io.innerHTML;
      window.dispatchEvent(new CustomEvent("wf:content", { detail: document.body }));
    }, 300);
  };
  const stop = (source, message) => {
    source.close();
    const note = document.createElement("p");
    note.className = "hint";
    note.setAttribute("role", "note");
    note.textContent = "Stopped following the run: " + message + " (reload to try again).";
    document.querySelector(".wf-head").append(note);
  };
  // The stream is opened again (after the last event shown) when the connection drops, rather
  // than by EventSource's own retry, which would ask again for events already shown.
  const follow = () => {
    const source = new EventSource(url);
    source.addEventListener("events", (ev) => {
      const data = JSON.parse(ev.data);
      url.searchParams.set("after", data.last);
      if (table && table.dataset.lastPage) {
        document.getElementById("event-rows").insertAdjacentHTML("beforeend", data.html);
        window.dispatchEvent(new CustomEvent("wf:content", { detail: table }));
      }
      refreshParts();
    });
    source.addEventListener("status", (ev) => {
      const data = JSON.parse(ev.data);
      status.textContent = data.status;
      status.className = "badge " + data["class"];
    });
    source.addEventListener("end", () => { source.close(); refreshParts(); });
    source.addEventListener("down", (ev) => stop(source, JSON.parse(ev.data).message));
    source.addEventListener("gone", (ev) => stop(source, JSON.parse(ev.data).message));
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED || source.readyState === EventSource.CONNECTING) {
        source.close();
        setTimeout(follow, 3000);
      }
    };
  };
  follow();
}

// Actions: confirm in the <dialog>, then POST and show the outcome (role="alert") in place; the
// parts of the page marked data-refresh are then fetched again (a schedule's state, say).
function actions() {
  const dialog = document.getElementById("confirm");
  const outcome = document.getElementById("outcome");
  if (!dialog || !outcome) return;
  document.addEventListener("submit", (ev) => {
    const form = ev.target.closest("form.action");
    if (!form) return;
    ev.preventDefault();
    document.getElementById("confirm-text").textContent = form.dataset.confirm;
    dialog.returnValue = "";
    dialog.onclose = async () => {
      if (dialog.returnValue !== "confirm") return;
      outcome.innerHTML = "";
      const body = new FormData(form);
      if (window.wfCodec) {
        try {
          await window.wfCodec.encodeInput(body);
        } catch (e) {
          const alert = document.createElement("div");
          alert.setAttribute("role", "alert");
          alert.className = "outcome bad";
          alert.textContent = "Not sent: the input could not be encoded (" + e.message + ").";
          outcome.replaceChildren(alert);
          return;
        }
      }
      try {
        const r = await fetch(form.action, {
          method: "POST", body, headers: { "X-WF-Fragment": "outcome" },
        });
        outcome.innerHTML = await r.text();
        if (r.ok) await refreshMarked();
      } catch (e) {
        outcome.innerHTML = '<div role="alert" class="outcome bad"><p>The UI could not be reached.</p></div>';
      }
    };
    dialog.showModal();
  });
}

async function refreshMarked() {
  const marked = document.querySelectorAll("[data-refresh][id]");
  if (!marked.length) return;
  const r = await fetch(location.href);
  if (!r.ok) return;
  const doc = new DOMParser().parseFromString(await r.text(), "text/html");
  marked.forEach((el) => {
    const fresh = doc.getElementById(el.id);
    if (fresh) el.innerHTML = fresh.innerHTML;
  });
}

onReady(() => {
  liveList(); loadFragments(); pagedEvents(); timelineBars(); expandAll(); copyButtons(); liveWorkflow(); actions();
});
