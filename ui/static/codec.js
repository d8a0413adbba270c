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

function textToB64(text) {
  let binary = "";
  new TextEncoder().encode(text).forEach((b) => { binary += String.fromCharCode(b); });
  return btoa(binary);
}

function headers() {
  return {
    "Content-Type": "application/json", "X-Namespace": document.querySelector("[data-namespace]")?.dataset.namespace || "",
    ...(codecAuth ? { Authorization: codecAuth } : {}),
  };
}

// An action's Input, encoded here through <endpoint>/encode before the form is sent, as Temporal's UI
// does: the workers' codec (encryption, say) seals it, so it reaches the wf server as theirs would.
// The form then carries input_payload (the protocol's JSON form) instead of input. Throws, and
// nothing is sent, when the Input is not JSON or the codec server does not encode it.
async function encodeInput(body) {
  const input = String(body.get("input") || "");
  if (!input.trim()) return;
  let value;
  try { value = JSON.parse(input); } catch (e) { throw new Error("Input is not JSON: " + e.message); }
  const payload = { metadata: { encoding: textToB64("json/plain") }, data: textToB64(JSON.stringify(value)) };
  const r = await fetch(endpoint + "/encode", {
    method: "POST", headers: headers(), body: JSON.stringify({ payloads: [payload] }),
  });
  if (!r.ok) throw new Error("the codec server answered " + r.status + " to /encode");
  const answer = await r.json();
  if (!answer.payloads || answer.payloads.length !== 1) throw new Error("the codec server encoded nothing");
  body.delete("input");
  body.set("input_payload", JSON.stringify(answer.payloads[0]));
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
    const r = await fetch(endpoint + "/decode", { method: "POST", headers: headers(), body: JSON.stringify({ payloads }) });
    if (!r.ok) throw new Error("codec server answered " + r.status);
    const answer = await r.json();
    (answer.payloads || []).forEach((p, i) => { if (els[i]) show(els[i], p); });
  } catch (e) {
    els.forEach((el) => { el.title = "The codec server could not decode this payload: " + e.message; });
  }
}

decodeWithin(document);
window.addEventListener("wf:content", (ev) => decodeWithin(ev.detail || document));
if (endpoint) window.wfCodec = { encodeInput };
