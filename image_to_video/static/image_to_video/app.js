// The page: talks only to the public API and the client's WebSocket. No framework, no build.
const config = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);
// The host mounts the apps where it likes: every route comes from the server (reverse()), ids swapped in.
const url = (name, id = "") => config.urls[name].replace(config.urls.someId, encodeURIComponent(id));
const csrf = () => document.querySelector("input[name=csrfmiddlewaretoken]").value;
const FIELDS = ["sourceImage", "clientId", "motionType", "motionDirection", "motionStrength", "duration",
                "outputFormat", "width", "height", "provider", "promptText", "focus", "keyframes"];
const JSON_FIELDS = new Set(["focus", "keyframes"]);  // sent as JSON text in the multipart form
let focusPoint = null;  // {x, y} in photo fractions, set by clicking the preview
const keyframes = [];
const jobs = new Map();  // jobId -> latest job JSON
let latestJobId = null;  // the job made from the photo in the preview

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, {credentials: "same-origin", ...options,
    headers: {"Accept": "application/json", "X-CSRFToken": csrf(), ...(options.headers || {})}});
  let body = null;
  try { body = await response.json(); } catch { /* empty or not JSON */ }
  return {ok: response.ok, status: response.status, body};
}

const clientId = () => $("clientId").value;

// --- the form -------------------------------------------------------------------------------

function fillDirections() {
  const type = $("motionType").value;
  const select = $("motionDirection");
  const previous = select.value;
  select.replaceChildren(...config.directions[type].map((d) => el("option", {value: d}, d)));
  select.value = config.directions[type].includes(previous) ? previous : config.defaults[type];
}

function applyPreset() {
  const preset = $("sizePreset").value;
  if (preset === "custom") { $("width").focus(); return; }
  const [w, h] = preset.split("x");
  $("width").value = w;
  $("height").value = h;
}

function showPreview(file) {
  if (!file) return;
  const preview = $("preview");
  preview.src = URL.createObjectURL(file);
  $("preview-wrap").hidden = false;
  $("subject-box").hidden = true;
}

// --- focus and keyframes --------------------------------------------------------------------

const round3 = (v) => Math.round(v * 1000) / 1000;

function placeFocus(event) {
  const rect = $("preview").getBoundingClientRect();
  focusPoint = {x: round3((event.clientX - rect.left) / rect.width), y: round3((event.clientY - rect.top) / rect.height)};
  focusPoint.x = Math.min(1, Math.max(0, focusPoint.x));
  focusPoint.y = Math.min(1, Math.max(0, focusPoint.y));
  $("focus").value = "point";
  showFocus();
}

function showFocus() {
  const marker = $("focus-marker");
  const point = $("focus").value === "point" ? focusPoint : null;
  marker.hidden = !point;
  $("focus-point").textContent = point ? `x ${point.x}, y ${point.y}` : "";
  if (point) { marker.style.left = `${point.x * 100}%`; marker.style.top = `${point.y * 100}%`; }
}

function showSubject(job) {
  // What "auto" found in the photo, drawn where it is on the preview.
  const framing = job.framing;
  const box = $("subject-box");
  if (!framing || !framing.box || $("preview-wrap").hidden) return;
  const [x0, y0, x1, y1] = framing.box;
  Object.assign(box.style, {left: `${x0 * 100}%`, top: `${y0 * 100}%`,
                            width: `${(x1 - x0) * 100}%`, height: `${(y1 - y0) * 100}%`});
  $("subject-label").textContent = `${framing.method} found`;
  box.hidden = false;
}

function focusValue() {
  const mode = $("focus").value;
  if (mode === "point") return focusPoint ? JSON.stringify(focusPoint) : "";
  return JSON.stringify(mode);
}

function addKeyframe() {
  const point = focusPoint || {x: 0.5, y: 0.5};
  keyframes.push({t: Number($("kf-t").value), zoom: Number($("kf-zoom").value), x: point.x, y: point.y,
                  angle: Number($("kf-angle").value), ease: $("kf-ease").value});
  keyframes.sort((a, b) => a.t - b.t);
  $("kf-t").value = String(Math.min(Number($("duration").value) || 10, Number($("kf-t").value) + 1));
  showKeyframes();
}

function showKeyframes() {
  $("kf-list").replaceChildren(...keyframes.map((k, i) => el("li", {"data-keyframe": i},
    `${k.t}s · zoom ${k.zoom} · x ${k.x}, y ${k.y} · ${k.angle}° · ${k.ease} `,
    el("button", {type: "button", class: "link", "aria-label": `Remove keyframe ${i + 1}`,
                  onclick: () => { keyframes.splice(i, 1); showKeyframes(); }}, "Remove"))));
  const replaced = keyframes.length >= 2;
  for (const id of ["motionType", "motionDirection", "motionStrength"]) $(id).disabled = replaced;
}

function clearErrors() {
  for (const name of [...FIELDS, "form"]) {
    const slot = $(`error-${name}`);
    if (slot) slot.textContent = "";
    const input = $(name);
    if (input) input.removeAttribute("aria-invalid");
  }
}

function showErrors(body, status) {
  if (!body || typeof body !== "object") {
    $("error-form").textContent = `The request failed (${status}).`;
    return;
  }
  let shown = false;
  for (const [key, messages] of Object.entries(body)) {
    // "keyframes[1].t" and "focus.x" are shown by their field, named in the text.
    const field = key.startsWith("keyframes") ? "keyframes" : key.startsWith("focus") ? "focus" : key;
    const slot = $(`error-${field}`);
    let text = Array.isArray(messages) ? messages.map((m) => typeof m === "string" ? m : JSON.stringify(m)).join(" ")
                                       : String(messages);
    if (key !== field) text = `${key}: ${text}`;
    if (slot) {
      slot.textContent = text;
      $(field)?.setAttribute("aria-invalid", "true");
      if (!shown) $(field)?.focus();
      shown = true;
    } else {
      $("error-form").textContent = text;
    }
  }
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  const file = $("sourceImage").files[0];
  if (!file) { showErrors({sourceImage: ["Choose a photo first."]}); return; }
  const data = new FormData();
  data.append("sourceImage", file);
  for (const name of FIELDS.slice(1)) {
    const input = $(name);
    if (JSON_FIELDS.has(name) || !input || input.disabled || input.closest("[hidden]") && name !== "clientId") continue;
    if (input.value !== "") data.append(name, input.value);
  }
  const focus = focusValue();
  if (focus) data.append("focus", focus);
  if (keyframes.length) data.append("keyframes", JSON.stringify(keyframes));
  $("submit").disabled = true;
  try {
    const {ok, status, body} = await api(url("generate"), {method: "POST", body: data});
    if (ok) { latestJobId = body.jobId; upsertJob(body, true); }
    else showErrors(body, status);
  } catch (error) {
    $("error-form").textContent = `Could not reach the server: ${error.message}`;
  } finally {
    $("submit").disabled = false;
  }
}

// --- jobs -----------------------------------------------------------------------------------

function media(url, format, label, poster = null) {
  if (format === "gif" || url.includes(".gif")) return el("img", {src: url, alt: label, class: "media"});
  return el("video", {src: url, controls: true, playsinline: true, preload: "metadata", class: "media",
                      "aria-label": label, poster});
}

function jobCard(job) {
  const p = job.params;
  const move = p.keyframes ? `${p.keyframes.length} keyframes` : `${p.motionType} ${p.motionDirection}`;
  const title = `${move} · ${p.width}×${p.height} ${p.outputFormat} · ${p.duration}s`;
  const running = job.status === "queued" || job.status === "processing";
  const card = el("li", {class: `job ${job.status}`, id: `job-${job.jobId}`, "data-status": job.status},
    el("div", {class: "job-head"},
      el("strong", {}, title),
      el("span", {class: "status", "data-testid": "status"}, job.status)),
    el("div", {class: "progress-row"},
      el("progress", {max: 100, value: job.progress, "aria-label": `Progress of ${title}`}),
      el("span", {class: "percent"}, `${job.progress}%`),
      running ? el("button", {type: "button", class: "cancel", onclick: () => cancel(job.jobId)}, "Cancel") : null),
  );
  if (job.error && job.status !== "completed") card.append(el("p", {class: "error", role: "alert"}, job.error.message));
  if (job.note) card.append(el("p", {class: "muted note"}, job.note));
  if (job.status === "completed" && job.videoUrl) {
    card.append(media(job.videoUrl, p.outputFormat, title),
      el("p", {class: "links"},
        el("a", {href: job.videoUrl, download: `${job.jobId}.${p.outputFormat}`}, "Download"), " · ",
        el("a", {href: url("asset", job.assetId), class: "asset-link"}, "Asset"), " · ",
        el("span", {class: "muted"}, `strength ${p.motionStrength}, ${job.provider}` +
          (job.framing ? `, framed on ${job.framing.method}` : ""))));
  } else if (job.status === "completed") {
    card.append(el("p", {class: "muted"}, "Filing the video in the library…"));
  }
  return card;
}

function upsertJob(job, isNew = false) {
  if (job.clientId !== clientId()) return;
  const known = jobs.get(job.jobId);
  if (known && Date.parse(known.updatedAt) > Date.parse(job.updatedAt)) return;  // never go backwards
  jobs.set(job.jobId, job);
  if (job.framing && job.jobId === latestJobId) showSubject(job);
  const card = jobCard(job);
  const existing = $(`job-${job.jobId}`);
  const list = $("jobs");
  if (existing) {
    // Keep a playing video element; replace the rest.
    const oldMedia = existing.querySelector(".media");
    const newMedia = card.querySelector(".media");
    if (oldMedia && newMedia && oldMedia.getAttribute("src") === newMedia.getAttribute("src")) newMedia.replaceWith(oldMedia);
    existing.replaceWith(card);
  } else if (isNew) list.prepend(card);
  else list.append(card);
}

async function cancel(jobId) {
  const {ok, body, status} = await api(url("cancel", jobId), {method: "POST"});
  if (ok) upsertJob(body);
  else $("error-form").textContent = body?.detail || `Cancel failed (${status}).`;
}

async function loadJobs() {
  jobs.clear();
  $("jobs").replaceChildren();
  const {ok, body} = await api(url("clientJobs", clientId()));
  if (ok) for (const job of body.results) upsertJob(job);
}

// --- live updates ---------------------------------------------------------------------------

let socket = null;
let retry = 0;

async function connect() {
  if (socket) socket.close(1000);
  const id = clientId();
  if (!id) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // A single-use ticket (60 s), sent as a subprotocol: in no URL, so in no log. The session also works.
  const ticket = await api(url("wsTicket"), {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({clientId: id})});
  const protocols = ticket.ok ? ["image-to-video", `ticket.${ticket.body.ticket}`] : [];
  const ws = new WebSocket(`${scheme}://${location.host}${url("socket", id)}`, protocols);
  socket = ws;
  ws.onopen = () => {
    retry = 0;
    $("live").textContent = "live";
    ws.send(JSON.stringify({type: "jobs.sync"}));  // what is still running...
    resyncShownJobs();  // ...and what finished while the socket was down
  };
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "job.updated") upsertJob(message.job, !jobs.has(message.job.jobId));
    else if (message.type === "jobs.sync") message.jobs.forEach((job) => upsertJob(job, !jobs.has(job.jobId)));
    else if (message.type === "asset.created" && !$("panel-library").hidden) loadLibrary();
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    $("live").textContent = "offline";
    if (event.code >= 4400 && event.code < 4500) return;  // not allowed: do not hammer
    setTimeout(connect, Math.min(10000, 500 * 2 ** retry++));
  };
}

const FINAL = new Set(["completed", "failed", "canceled"]);

async function resyncShownJobs() {
  for (const [jobId, job] of jobs) {
    if (FINAL.has(job.status)) continue;
    try {
      const response = await api(url("job", jobId));
      if (response.ok) upsertJob(response.body);
    } catch (error) {
      console.warn("could not refresh job", jobId, error);
    }
  }
}

// --- library --------------------------------------------------------------------------------

async function loadLibrary(event) {
  event?.preventDefault();
  const params = new URLSearchParams({clientId: clientId()});
  for (const name of ["tag", "category", "search"]) {
    const value = $(`lib-${name}`).value.trim();
    if (value) params.set(name, value);
  }
  const {ok, body} = await api(`${url("assets")}?${params}`);
  const list = $("assets");
  list.replaceChildren();
  if (!ok) { $("library-count").textContent = "The library could not be loaded."; return; }
  $("library-count").textContent = `${body.count} asset${body.count === 1 ? "" : "s"}`;
  for (const asset of body.results) {
    list.append(el("li", {class: "asset", "data-asset": asset.assetId},
      media(asset.url, asset.contentType === "image/gif" ? "gif" : "mp4", asset.name, asset.posterUrl),
      el("p", {class: "muted facts"}, `${asset.width}×${asset.height} · ${asset.duration}s · ${asset.fps} fps · ` +
        `${asset.frameCount} frames · ${asset.codec} · ${Math.round((asset.bitrate || 0) / 1000)} kb/s`),
      el("p", {}, el("strong", {}, asset.name)),
      el("p", {class: "muted"}, [...asset.tags, ...asset.categories.map((c) => `#${c}`)].join(" · ")),
      el("a", {href: asset.url, download: ""}, "Download")));
  }
}

// --- tabs -----------------------------------------------------------------------------------

function selectTab(tab) {
  for (const other of document.querySelectorAll("[role=tab]")) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !selected;
  }
  if (tab.id === "tab-library") loadLibrary();
}

function initTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => selectTab(tab));
    tab.addEventListener("keydown", (e) => {
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      selectTab(next);
    });
  });
}

// --- start ----------------------------------------------------------------------------------

function init() {
  initTabs();
  fillDirections();
  $("motionType").addEventListener("change", fillDirections);
  $("motionStrength").addEventListener("input", () => { $("strength-value").value = $("motionStrength").value; });
  $("sizePreset").addEventListener("change", applyPreset);
  for (const id of ["width", "height"]) $(id).addEventListener("input", () => { $("sizePreset").value = "custom"; });
  $("sourceImage").addEventListener("change", () => showPreview($("sourceImage").files[0]));
  $("preview").addEventListener("click", placeFocus);
  $("focus").addEventListener("change", showFocus);
  $("kf-add").addEventListener("click", addKeyframe);
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (!e.dataTransfer.files.length) return;
    $("sourceImage").files = e.dataTransfer.files;
    showPreview(e.dataTransfer.files[0]);
  });
  const provider = $("provider");
  const togglePrompt = () => { $("prompt-field").hidden = provider.value !== "runway"; };
  provider.addEventListener("change", togglePrompt);
  togglePrompt();
  $("generate-form").addEventListener("submit", submit);
  $("library-filter").addEventListener("submit", loadLibrary);
  $("clientId").addEventListener("change", () => { loadJobs(); connect(); });
  if (clientId()) { loadJobs(); connect(); }
}

init();
