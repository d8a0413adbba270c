// Decode payloads in the browser through a codec server, as Temporal's UI does: the page carries
// each payload raw (data-payload, the codec protocol's JSON form) and this module POSTs them to
// <endpoint>/decode, then shows what comes back. The UI's own process never sees the plaintext.
const endpoint = document.body.dataset.codecEndpoint;
// `wf ui --codec-auth`: the Authorization header a codec server started with --codec-auth expects.
const codecAuth = document.body.dataset.codecAuth;

function b64ToText(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function show(el, payload) {
  const encoding = payload.metadata && payload.metadata.encoding ? b64ToText(payload.metadata.encoding) : "";
  let text;
  if (encoding === "json/plain") {
    try { text = JSON.stringify(JSON.parse(b64ToText(payload.data || "")), null, 2); } catch (e) { text = null; }
  }
  const pre = document.createElement("pre");
  pre.className = text == null ? "b64" : "json";
  pre.textContent = text == null ? (payload.data || "") : text;
  el.replaceChildren(pre);
  if (text == null) {
    const label = document.createElement("span");
    label.className = "encoding";
    label.textContent = (encoding || "(none)") + ", base64";
    el.prepend(label);
  }
  el.dataset.decoded = "1";
}

async function decodeWithin(root) {
  if (!endpoint) return;
  const els = [...root.querySelectorAll("[data-payload]:not([data-decoded])")];
  if (!els.length) return;
  const payloads = els.map((el) => JSON.parse(el.dataset.payload));
  try {
    const r = await fetch(endpoint + "/decode", {
      method: "POST",
      headers: {
        "Content-Type": "application/json", "X-Namespace": document.querySelector("[data-namespace]")?.dataset.namespace || "",
        ...(codecAuth ? { Authorization: codecAuth } : {}),
      },
      body: JSON.stringify({ payloads }),
    });
    if (!r.ok) throw new Error("codec server answered " + r.status);
    const answer = await r.json();
    (answer.payloads || []).forEach((p, i) => { if (els[i]) show(els[i], p); });
  } catch (e) {
    els.forEach((el) => { el.title = "The codec server could not decode this payload: " + e.message; });
  }
}

decodeWithin(document);
window.addEventListener("wf:content", (ev) => decodeWithin(ev.detail || document));
