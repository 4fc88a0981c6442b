// The page: talks only to the public API and the client's WebSocket. No framework, no build.
//
// Sections: helpers · settings kept across reloads · the photo · the camera (the engine's path maths,
// ported) · the live preview · the plan (POST …/plan) · moves as tiles · the keyframe editor · submit
// · jobs · live updates · sharing · the library · tabs and start.
const config = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);
// The host mounts the apps where it likes: every route comes from the server (reverse()), ids swapped in.
const url = (name, id = "") => config.urls[name].replace(config.urls.someId, encodeURIComponent(id));
const csrf = () => document.querySelector("input[name=csrfmiddlewaretoken]").value;
const clientId = () => $("clientId").value;
const round = (v, places = 3) => Math.round(v * 10 ** places) / 10 ** places;
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, {credentials: "same-origin", ...options,
    headers: {"Accept": "application/json", "X-CSRFToken": csrf(), ...(options.headers || {})}});
  let body = null;
  try { body = await response.json(); } catch { /* empty or not JSON */ }
  return {ok: response.ok, status: response.status, body};
}

function toast(message, action = null) {
  const box = $("toast");
  box.replaceChildren(el("span", {}, message), action);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

const announce = (text) => { $("announce").textContent = text; };

// --- settings kept across reloads ----------------------------------------------------------

const STORE = "airwave.image-to-video.settings";
const KEPT = ["motionStrength", "focus", "duration", "outputFormat", "sizePreset", "width", "height", "provider",
              "videoCodec", "motionBlur"];

function saveSettings() {
  const kept = Object.fromEntries(KEPT.map((id) => [id, $(id).value]));
  kept.preset = state.preset;
  kept.keyframes = state.preset === "custom" ? state.keyframes : null;
  kept.variants = checkedVariants();
  kept.loop = $("loop").checked;
  try { localStorage.setItem(STORE, JSON.stringify(kept)); } catch { /* private mode: not kept */ }
}

function restoreSettings() {
  let kept = null;
  try { kept = JSON.parse(localStorage.getItem(STORE) || "null"); } catch { kept = null; }
  if (!kept) return;
  for (const id of KEPT) {
    if (kept[id] === undefined || kept[id] === null) continue;
    const input = $(id);
    if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === kept[id])) continue;
    input.value = kept[id];
  }
  for (const box of document.querySelectorAll("input[name=variant]")) box.checked = (kept.variants || []).includes(box.value);
  $("loop").checked = Boolean(kept.loop);
  if (kept.preset && PRESETS.some((p) => p.id === kept.preset)) {
    state.preset = kept.preset;
    if (kept.preset === "custom" && Array.isArray(kept.keyframes) && kept.keyframes.length >= 2) {
      state.keyframes = kept.keyframes;
    }
  }
}

// --- the photo -----------------------------------------------------------------------------

const state = {
  file: null,           // the chosen photo (a File)
  image: null,          // its decoded <img>, upright as browsers show it (and as the engine reads it)
  preset: "zoom-in",    // a tile's id; "custom" when the keyframe editor drives the move
  keyframes: [],        // the editor's path (custom and keyframed presets)
  selected: 0,          // the keyframe being edited
  focusPoint: null,     // {x, y} in photo fractions, for "A point I click on the photo"
  plan: null,           // the last plan the server answered, with the inputs it was for
  time: 0,              // the preview's time (seconds)
  playing: true,
};
const undo = [];
const redo = [];

async function choosePhoto(file) {
  clearErrors();
  state.planWarnings = [];
  state.lowResolution = "";
  showWarnings();
  if (!file) return;
  const accepted = ["image/jpeg", "image/png", "image/webp"];
  if (file.type && !accepted.includes(file.type)) {
    showErrors({sourceImage: [`That is a ${file.type} file; choose a JPEG, PNG or WebP photo.`]}); return;
  }
  if (file.size > config.maxUploadBytes) {
    const mb = (file.size / 1048576).toFixed(1);
    showErrors({sourceImage: [`The photo is ${mb} MB; at most ${config.maxUploadBytes / 1048576} MB are accepted.`]});
    return;
  }
  const image = new Image();
  image.src = URL.createObjectURL(file);
  try { await image.decode(); } catch {
    showErrors({sourceImage: ["This file could not be read as a photo."]}); return;
  }
  const {naturalWidth: w, naturalHeight: h} = image;
  if (w < 1 || h < 1 || w * h > config.maxPixels || Math.max(w, h) > config.maxSide) {
    showErrors({sourceImage: [`The photo is ${w} × ${h}; at most ${config.maxPixels / 1e6} megapixels ` +
                              `and ${config.maxSide} px on a side are accepted.`]});
    return;
  }
  if (state.image) URL.revokeObjectURL(state.image.src);
  state.file = file;
  state.image = image;
  $("preview").src = image.src;
  if ($("sourceImage").files[0] !== file) {
    try { const list = new DataTransfer(); list.items.add(file); $("sourceImage").files = list.files; } catch { /* old browser */ }
  }
  $("stage").hidden = false;
  $("transport").hidden = false;
  $("drop-empty").hidden = true;
  state.time = 0;
  sizeCanvases();
  checkResolution();
  schedulePlan();
}

function checkResolution() {
  if (!state.image) return;
  const [w, h] = [Number($("width").value), Number($("height").value)];
  const {naturalWidth: pw, naturalHeight: ph} = state.image;
  const cover = Math.max(w / pw, h / ph);
  state.lowResolution = cover > 1.05
    ? `This photo is ${pw} × ${ph}: for a ${w} × ${h} video it is enlarged ${cover.toFixed(1)}×, so it will look soft. ` +
      "A larger photo or a smaller size looks sharper."
    : "";
  showWarnings();
}

function showWarnings() {
  $("photo-warning").textContent = [state.lowResolution, ...(state.planWarnings || [])].filter(Boolean).join("\n");
}

function acceptDrops() {
  const drop = $("drop");
  document.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer?.files?.[0];
    if (file) choosePhoto(file);
  });
  document.addEventListener("paste", (e) => {
    const item = [...(e.clipboardData?.items || [])].find((i) => i.kind === "file" && i.type.startsWith("image/"));
    if (!item) return;
    e.preventDefault();
    const blob = item.getAsFile();
    const name = `pasted.${blob.type.split("/")[1] || "png"}`;
    choosePhoto(new File([blob], name, {type: blob.type}));
  });
  $("sourceImage").addEventListener("change", () => choosePhoto($("sourceImage").files[0]));
  $("change-photo").addEventListener("click", () => $("sourceImage").click());
}

// --- the camera: the engine's path maths (engine/camera.py, engine/framing.py), ported -------

const smoothstep = (s) => { s = clamp(s, 0, 1); return s * s * (3 - 2 * s); };

function cameraAt(keys, t) {
  if (!keys.length) return {zoom: 1, x: 0.5, y: 0.5, angle: 0};
  const plain = (k) => ({zoom: k.zoom ?? 1, x: k.x ?? 0.5, y: k.y ?? 0.5, angle: k.angle ?? 0});
  if (t <= keys[0].t) return plain(keys[0]);
  for (let i = 0; i + 1 < keys.length; i++) {
    const a = plain(keys[i]);
    const b = plain(keys[i + 1]);
    if (t >= keys[i + 1].t) continue;
    const ease = keys[i].ease || "smooth";
    if (ease === "hold") return a;
    const s = (t - keys[i].t) / (keys[i + 1].t - keys[i].t);
    const e = ease === "smooth" ? smoothstep(s) : clamp(s, 0, 1);
    const zoom = a.zoom ** (1 - e) * b.zoom ** e;
    // The centre moves linearly in 1/zoom while the zoom changes: a zoom about a fixed photo point.
    const p = Math.abs(Math.log(b.zoom / a.zoom)) > 1e-12 ? (1 / a.zoom - 1 / zoom) / (1 / a.zoom - 1 / b.zoom) : e;
    return {zoom, x: a.x + (b.x - a.x) * p, y: a.y + (b.y - a.y) * p, angle: a.angle + (b.angle - a.angle) * e};
  }
  return plain(keys[keys.length - 1]);
}

function outputSize() {
  return [clamp(Number($("width").value) || 1080, 64, 1920), clamp(Number($("height").value) || 1080, 64, 1920)];
}

// The output frame on the photo, in photo pixels: centre, half sizes, angle (radians, picture clockwise).
function frameOnPhoto(camera) {
  const {naturalWidth: w, naturalHeight: h} = state.image;
  const [ow, oh] = outputSize();
  const k = 1 / (Math.max(ow / w, oh / h) * camera.zoom);  // photo pixels per output pixel
  return {cx: camera.x * w, cy: camera.y * h, hw: (ow / 2) * k, hh: (oh / 2) * k,
          a: (camera.angle * Math.PI) / 180, k};
}

function corners(f) {
  const c = Math.cos(f.a);
  const s = Math.sin(f.a);
  return [[-f.hw, -f.hh], [f.hw, -f.hh], [f.hw, f.hh], [-f.hw, f.hh]].map(([u, v]) =>
    [f.cx + u * c + v * s, f.cy - u * s + v * c]);
}

// A photo point in the frame's own coordinates (photo pixels, unturned).
function inFrame(f, px, py) {
  const dx = px - f.cx;
  const dy = py - f.cy;
  const c = Math.cos(f.a);
  const s = Math.sin(f.a);
  return [dx * c - dy * s, dx * s + dy * c];
}

// --- the live preview ----------------------------------------------------------------------

const duration = () => clamp(Number($("duration").value) || 3, 1, 10);
const editing = () => state.preset === "custom" || PRESETS.find((p) => p.id === state.preset)?.keyframes;

// What the preview plays: the server's plan when it is for these very inputs (what will render), else the
// editor's keyframes as they are while they change.
function shownPath() {
  if (state.plan && state.plan.key === planKey()) return state.plan.body.cameraPath;
  if (editing()) return state.keyframes;
  return state.plan ? state.plan.body.cameraPath : [];
}

function sizeCanvases() {
  if (!state.image) return;
  const stage = $("stage-canvas");
  const ratio = window.devicePixelRatio || 1;
  const {naturalWidth: w, naturalHeight: h} = state.image;
  const width = stage.parentElement.clientWidth - 4;
  // Smaller while the keyframe editor is open, so the photo and the timeline fit on one screen.
  const tall = window.innerHeight * (editing() ? 0.42 : 0.55);
  const cssW = Math.max(120, Math.min(width, (tall * w) / h));
  stage.style.width = `${cssW}px`;
  stage.style.height = `${(cssW * h) / w}px`;
  stage.width = Math.round(cssW * ratio);
  stage.height = Math.round(((cssW * h) / w) * ratio);
  const [ow, oh] = outputSize();
  const frame = $("frame-canvas");
  const fw = Math.min(240, (160 * ow) / oh);
  frame.style.width = `${fw}px`;
  frame.style.height = `${(fw * oh) / ow}px`;
  frame.width = Math.round(fw * ratio);
  frame.height = Math.round(((fw * oh) / ow) * ratio);
  draw();
}

function draw() {
  if (!state.image) return;
  const path = shownPath();
  const camera = cameraAt(path, state.time);
  drawStage(camera, path);
  drawFrame(camera);
  $("time").value = `${state.time.toFixed(1)} s`;
  $("frame-time").textContent = `${state.time.toFixed(1)} s`;
  $("scrub").value = String(state.time);
  $("playhead").style.left = `${(state.time / duration()) * 100}%`;
}

function drawStage(camera, path) {
  const canvas = $("stage-canvas");
  const ctx = canvas.getContext("2d");
  const scale = canvas.width / state.image.naturalWidth;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(state.image, 0, 0, canvas.width, canvas.height);
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  const line = 2 / scale;
  if (path.length) {
    const frame = frameOnPhoto(camera);
    const points = corners(frame);
    ctx.beginPath();  // dim what the frame leaves out
    ctx.rect(0, 0, state.image.naturalWidth, state.image.naturalHeight);
    points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.closePath();
    ctx.fillStyle = "rgba(0, 0, 0, 0.45)";
    ctx.fill("evenodd");
    if (editing()) {
      ctx.setLineDash([6 / scale, 4 / scale]);
      ctx.strokeStyle = "rgba(255, 255, 255, 0.6)";
      ctx.lineWidth = line / 1.5;
      state.keyframes.forEach((k, i) => {
        if (i === state.selected) return;
        polygon(ctx, corners(frameOnPhoto(cameraAt([k], 0))));
      });
      ctx.setLineDash([]);
    }
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = line * 1.5;
    polygon(ctx, points);
    ctx.strokeStyle = "#2457c5";
    ctx.lineWidth = line;
    polygon(ctx, points);
    const selectedKey = editing() ? state.keyframes[state.selected] : null;
    if (selectedKey && Math.abs(selectedKey.t - state.time) < 1e-6) drawHandles(ctx, frameOnPhoto(selectedKey), scale);
  }
  const framing = state.plan?.key === planKey() ? state.plan.body.framing : null;
  if (framing?.box && !editing()) {
    const [x0, y0, x1, y1] = framing.box;
    const {naturalWidth: w, naturalHeight: h} = state.image;
    ctx.setLineDash([5 / scale, 4 / scale]);
    ctx.strokeStyle = "#ffd400";
    ctx.lineWidth = line;
    ctx.strokeRect(x0 * w, y0 * h, (x1 - x0) * w, (y1 - y0) * h);
    ctx.setLineDash([]);
    ctx.font = `${13 / scale}px system-ui, sans-serif`;
    ctx.fillStyle = "#ffd400";
    ctx.fillText(`${framing.method} found`, x0 * w, y0 * h - 4 / scale);
  }
  if ($("focus").value === "point" && state.focusPoint && !editing()) {
    const {naturalWidth: w, naturalHeight: h} = state.image;
    ctx.beginPath();
    ctx.arc(state.focusPoint.x * w, state.focusPoint.y * h, 8 / scale, 0, 2 * Math.PI);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = line * 1.5;
    ctx.stroke();
  }
}

function polygon(ctx, points) {
  ctx.beginPath();
  points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.closePath();
  ctx.stroke();
}

const HANDLE = 9;  // css pixels

function handlePoints(frame) {
  const [, topRight] = corners(frame);
  const c = Math.cos(frame.a);
  const s = Math.sin(frame.a);
  let lift = frame.hh + Math.max(frame.hh * 0.25, 24 / stageScale());
  // Above the frame, or below it when above would be off the photo (a frame at the top edge).
  if (frame.cy - lift * c < 12 / stageScale()) lift = -lift;
  return {zoom: topRight, turn: [frame.cx + -lift * s, frame.cy - lift * c]};
}

function drawHandles(ctx, frame, scale) {
  const {zoom, turn} = handlePoints(frame);
  const r = HANDLE / scale;
  ctx.fillStyle = "#fff";
  ctx.strokeStyle = "#2457c5";
  ctx.lineWidth = 2 / scale;
  ctx.fillRect(zoom[0] - r, zoom[1] - r, 2 * r, 2 * r);
  ctx.strokeRect(zoom[0] - r, zoom[1] - r, 2 * r, 2 * r);
  ctx.beginPath();
  ctx.arc(turn[0], turn[1], r, 0, 2 * Math.PI);
  ctx.fill();
  ctx.stroke();
}

function drawFrame(camera) {
  const canvas = $("frame-canvas");
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!shownPath().length) return;
  const frame = frameOnPhoto(camera);
  const [ow] = outputSize();
  const s = canvas.width / ow;  // canvas pixels per output pixel
  ctx.imageSmoothingQuality = "high";
  ctx.translate(canvas.width / 2, canvas.height / 2);
  ctx.rotate(frame.a);
  ctx.scale(s / frame.k, s / frame.k);
  ctx.translate(-frame.cx, -frame.cy);
  ctx.drawImage(state.image, 0, 0);
}

const stageScale = () => $("stage-canvas").width / state.image.naturalWidth / (window.devicePixelRatio || 1);

let lastTick = null;
function tick(now) {
  if (state.playing && state.image && !dragging) {
    if (lastTick !== null) state.time = (state.time + (now - lastTick) / 1000) % duration();
    draw();
  }
  lastTick = now;
  requestAnimationFrame(tick);
}

function setPlaying(playing) {
  state.playing = playing;
  const button = $("play");
  button.setAttribute("aria-pressed", String(playing));
  button.setAttribute("aria-label", playing ? "Pause the preview" : "Play the preview");
  button.textContent = playing ? "❚❚" : "▶";
}

function seek(seconds) {
  state.time = clamp(seconds, 0, duration() - 1e-6);
  draw();
}

// --- the plan: what a job with these fields would render ----------------------------------

function formFields() {
  const fields = {
    clientId: clientId(), duration: $("duration").value, outputFormat: $("outputFormat").value,
    width: $("width").value, height: $("height").value, provider: $("provider").value,
  };
  if (!$("prompt-field").hidden && $("promptText").value) fields.promptText = $("promptText").value;
  if (["mp4", "mov"].includes(fields.outputFormat)) fields.videoCodec = $("videoCodec").value;
  if ($("loop").checked) fields.loop = "true";
  if (Number($("motionBlur").value) > 0) fields.motionBlur = $("motionBlur").value;
  if (editing()) {
    fields.keyframes = JSON.stringify(state.keyframes.map((k) => ({...k, t: round(k.t), zoom: round(k.zoom),
      x: round(k.x), y: round(k.y), angle: round(k.angle, 2)})));
  } else {
    const preset = PRESETS.find((p) => p.id === state.preset);
    Object.assign(fields, {motionType: preset.type, motionDirection: preset.direction,
                           motionStrength: $("motionStrength").value});
    const mode = $("focus").value;
    if (mode === "point" && state.focusPoint) fields.focus = JSON.stringify(state.focusPoint);
    else if (mode !== "point") fields.focus = JSON.stringify(mode);
  }
  return fields;
}

function planKey() {
  return state.file ? JSON.stringify([state.file.name, state.file.size, state.file.lastModified, formFields()]) : "";
}

let planTimer = null;
let planAbort = null;

function schedulePlan() {
  clearTimeout(planTimer);
  if (!state.file) return;
  $("plan-summary").textContent = "Planning the move…";
  planTimer = setTimeout(requestPlan, 250);
}

async function requestPlan() {
  const key = planKey();
  planAbort?.abort();
  planAbort = new AbortController();
  const data = new FormData();
  data.append("sourceImage", state.file);
  for (const [name, value] of Object.entries(formFields())) data.append(name, value);
  let answer;
  try {
    answer = await api(url("plan"), {method: "POST", body: data, signal: planAbort.signal});
  } catch (error) {
    if (error.name !== "AbortError") $("plan-summary").textContent = "The preview could not be planned (offline?).";
    return;
  }
  if (key !== planKey()) return;  // the inputs changed meanwhile: a newer plan is on its way
  clearErrors();
  if (!answer.ok) {
    $("plan-summary").textContent = "";
    showErrors(answer.body, answer.status, {focusField: false});
    return;
  }
  state.plan = {key, body: answer.body};
  summarisePlan(answer.body);
  draw();
}

function summarisePlan(plan) {
  const path = plan.cameraPath;
  const zooms = path.map((k) => k.zoom);
  const angles = path.map((k) => k.angle);
  const parts = [];
  const [z0, z1] = [zooms[0], zooms[zooms.length - 1]];
  parts.push(Math.abs(z0 - z1) > 0.005 ? `zoom ${z0.toFixed(2)}× → ${z1.toFixed(2)}×` : `zoom ${z0.toFixed(2)}×`);
  const turn = Math.max(...angles) - Math.min(...angles);
  if (turn > 0.05) parts.push(`turns ${turn.toFixed(1)}°`);
  const travel = Math.hypot(path[path.length - 1].x - path[0].x, path[path.length - 1].y - path[0].y);
  if (travel > 0.005) parts.push(`moves ${Math.round(travel * 100)}% of the photo`);
  const framing = plan.framing || {};
  const on = {face: "framed on the face", saliency: "framed on the subject", point: "framed on your point",
              center: "framed on the centre", keyframes: "your camera path"}[framing.method] || "";
  if (on) parts.push(on);
  $("plan-summary").textContent = `${parts.join(" · ")} · ${plan.frameCount} frames at ${plan.fps} fps`;
  const warnings = [];
  if (framing.subjectInFrame === false) {
    warnings.push("The subject leaves the frame during this move: try a gentler strength, another direction or a point.");
  }
  for (const note of framing.notes || []) warnings.push(note);
  $("kf-status").textContent = editing() && framing.notes?.length ? framing.notes.join(" ") : "";
  state.planWarnings = warnings;
  showWarnings();
}

// --- moves as tiles ------------------------------------------------------------------------

// Keyframed presets are laid around the subject the plan found (else the focus point, else the centre).
function around() {
  const focus = state.plan?.body.framing?.focus;
  return focus ? {x: focus.x, y: focus.y} : state.focusPoint || {x: 0.5, y: 0.5};
}

// The nearest centre to ``point`` whose frame at ``zoom`` stays inside the photo (else the engine would
// raise the zoom of the whole path to keep borders out).
function fitted(point, zoom) {
  if (!state.image) return point;
  const f = frameOnPhoto({zoom, x: 0.5, y: 0.5, angle: 0});
  const {naturalWidth: w, naturalHeight: h} = state.image;
  const [mx, my] = [f.hw / w + 0.002, f.hh / h + 0.002];
  return {x: round(clamp(point.x, mx, 1 - mx)), y: round(clamp(point.y, my, 1 - my))};
}

const PRESETS = [
  {id: "zoom-in", label: "Zoom in", type: "zoom", direction: "in"},
  {id: "zoom-out", label: "Zoom out", type: "zoom", direction: "out"},
  {id: "pan-left", label: "Pan left", type: "pan", direction: "left"},
  {id: "pan-right", label: "Pan right", type: "pan", direction: "right"},
  {id: "pan-up", label: "Pan up", type: "pan", direction: "up"},
  {id: "pan-down", label: "Pan down", type: "pan", direction: "down"},
  {id: "rotation-left", label: "Turn left", type: "rotation", direction: "left"},
  {id: "rotation-right", label: "Turn right", type: "rotation", direction: "right"},
  {id: "complex-in", label: "Drift in", type: "complex", direction: "in"},
  {id: "complex-out", label: "Drift out", type: "complex", direction: "out"},
  {id: "push-hold", label: "Push in and hold", keyframes: (d, p) => { p = fitted(p, 1.6); return [
    {t: 0, zoom: 1, x: 0.5, y: 0.5, angle: 0, ease: "smooth"},
    {t: round(d * 0.6, 2), zoom: 1.6, x: p.x, y: p.y, angle: 0, ease: "hold"},
    {t: d, zoom: 1.6, x: p.x, y: p.y, angle: 0, ease: "smooth"}]; }},
  {id: "reveal", label: "Start close, pull back", keyframes: (d, p) => { p = fitted(p, 1.8); return [
    {t: 0, zoom: 1.8, x: p.x, y: p.y, angle: 0, ease: "hold"},
    {t: round(d * 0.3, 2), zoom: 1.8, x: p.x, y: p.y, angle: 0, ease: "smooth"},
    {t: d, zoom: 1, x: 0.5, y: 0.5, angle: 0, ease: "smooth"}]; }},
  {id: "custom", label: "My own path", custom: true},
];

function buildTiles() {
  $("tiles").replaceChildren(...PRESETS.map((preset) => el("label", {class: "tile", "data-preset": preset.id},
    el("input", {type: "radio", name: "preset", value: preset.id, onchange: () => choosePreset(preset.id)}),
    el("span", {class: `anim anim-${preset.id}`, "aria-hidden": "true"}, el("span", {class: "box"})),
    el("span", {class: "tile-label"}, preset.label))));
}

function choosePreset(id, {remember = true} = {}) {
  const preset = PRESETS.find((p) => p.id === id) || PRESETS[0];
  if (remember && id !== state.preset) pushUndo();
  state.preset = preset.id;
  for (const input of document.querySelectorAll("input[name=preset]")) input.checked = input.value === preset.id;
  if (preset.keyframes) {
    state.keyframes = preset.keyframes(duration(), around());
    state.selected = 1;
  } else if (preset.custom && state.keyframes.length < 2) {
    // Start from the move on screen, so "my own path" begins as a tweak of what the user saw.
    const shown = state.plan?.body.cameraPath;
    state.keyframes = shown?.length >= 2 ? shown.map((k) => ({...k}))
      : [{t: 0, zoom: 1, x: 0.5, y: 0.5, angle: 0, ease: "smooth"},
         {t: duration(), zoom: 1.3, x: 0.5, y: 0.5, angle: 0, ease: "smooth"}];
    state.selected = 0;
  }
  showMode();
  schedulePlan();
  saveSettings();
  draw();
}

function showMode() {
  const keyed = Boolean(editing());
  if (keyed !== showMode.keyed) { showMode.keyed = keyed; requestAnimationFrame(sizeCanvases); }
  $("kf-editor").hidden = !keyed;
  $("stage-help-keys").hidden = !keyed;
  $("strength-field").hidden = keyed;
  $("focus-field").hidden = keyed;
  describeStrength();
  if (keyed) showKeyframes();
}

function describeStrength() {
  const preset = PRESETS.find((p) => p.id === state.preset);
  const f = Number($("motionStrength").value) / 100;
  const e = config.strength;
  const text = {
    zoom: () => `zoom to ${(1 + e.zoom * f).toFixed(2)}×`,
    pan: () => `travels ${Math.round(e.pan * f * 100)}% of the frame`,
    rotation: () => `turns ${(e.rotation * f).toFixed(1)}°`,
    complex: () => `zoom to ${(1 + e.complexZoom * f).toFixed(2)}×, drift ${Math.round(e.complexDrift * f * 100)}%, ` +
                   `roll ${(e.complexRoll * f).toFixed(1)}°`,
  }[preset?.type];
  $("strength-value").value = text ? `${$("motionStrength").value}: ${text()}` : "";
}

// --- the keyframe editor -------------------------------------------------------------------

const snapshot = () => JSON.stringify({preset: state.preset, keyframes: state.keyframes, selected: state.selected});

function pushUndo() {
  undo.push(snapshot());
  if (undo.length > 100) undo.shift();
  redo.length = 0;
}

function restore(text) {
  const saved = JSON.parse(text);
  state.preset = saved.preset;
  state.keyframes = saved.keyframes;
  state.selected = clamp(saved.selected, 0, Math.max(0, saved.keyframes.length - 1));
  for (const input of document.querySelectorAll("input[name=preset]")) input.checked = input.value === state.preset;
  showMode();
  schedulePlan();
  saveSettings();
  draw();
}

function undoStep() { if (undo.length) { redo.push(snapshot()); restore(undo.pop()); } }
function redoStep() { if (redo.length) { undo.push(snapshot()); restore(redo.pop()); } }

// A keyframed preset edited by hand becomes the user's own path.
function edited() {
  if (state.preset !== "custom") {
    state.preset = "custom";
    for (const input of document.querySelectorAll("input[name=preset]")) input.checked = input.value === "custom";
  }
  showKeyframes();
  schedulePlan();
  saveSettings();
  draw();
}

function selectKeyframe(index, {seekTo = true} = {}) {
  state.selected = clamp(index, 0, state.keyframes.length - 1);
  if (seekTo) { setPlaying(false); seek(state.keyframes[state.selected].t); }
  showKeyframes();
}

function showKeyframes() {
  const d = duration();
  const timeline = $("timeline");
  for (const old of timeline.querySelectorAll(".marker")) old.remove();
  state.keyframes.forEach((k, i) => {
    const marker = el("button", {type: "button", class: `marker${i === state.selected ? " selected" : ""}`,
      "data-keyframe": i, "aria-pressed": String(i === state.selected),
      "aria-label": `Keyframe ${i + 1} at ${k.t.toFixed(1)} s, zoom ${k.zoom.toFixed(2)}×, then ${k.ease}`,
      style: `left: ${(k.t / d) * 100}%`});
    marker.addEventListener("pointerdown", (e) => dragMarker(e, i));
    marker.addEventListener("keydown", (e) => nudgeMarker(e, i));
    marker.addEventListener("click", () => selectKeyframe(i));
    timeline.append(marker);
  });
  const k = state.keyframes[state.selected];
  if (!k) return;
  const fields = {t: k.t, zoom: k.zoom, x: k.x, y: k.y, angle: k.angle};
  for (const [name, value] of Object.entries(fields)) {
    const input = $(`kf-${name}`);
    if (document.activeElement !== input) input.value = String(round(value, name === "angle" ? 1 : 2));
  }
  $("kf-t").max = String(d);
  $("kf-ease").value = k.ease || "smooth";
  $("kf-ease").disabled = state.selected === state.keyframes.length - 1;  // the last one leads nowhere
  $("kf-delete").disabled = state.keyframes.length <= 2;
  $("kf-add").disabled = state.keyframes.length >= 16;
  $("undo").disabled = !undo.length;
  $("redo").disabled = !redo.length;
}

function sortKeyframes() {
  const chosen = state.keyframes[state.selected];
  state.keyframes.sort((a, b) => a.t - b.t);
  state.selected = state.keyframes.indexOf(chosen);
}

function addKeyframe() {
  if (state.keyframes.length >= 16) return;
  pushUndo();
  const t = round(state.time, 2);
  const camera = cameraAt(state.keyframes, t);
  const clash = state.keyframes.findIndex((k) => Math.abs(k.t - t) < 0.05);
  if (clash >= 0) { selectKeyframe(clash); return; }
  // New keyframes glide: never a sticky "hold" carried over from the one before.
  state.keyframes.push({t, zoom: round(camera.zoom), x: round(camera.x), y: round(camera.y),
                        angle: round(camera.angle, 2), ease: "smooth"});
  state.selected = state.keyframes.length - 1;
  sortKeyframes();
  selectKeyframe(state.selected);
  edited();
}

function deleteKeyframe() {
  if (state.keyframes.length <= 2) return;
  pushUndo();
  state.keyframes.splice(state.selected, 1);
  selectKeyframe(Math.min(state.selected, state.keyframes.length - 1));
  edited();
}

function editField(name) {
  const k = state.keyframes[state.selected];
  if (!k) return;
  const raw = $(`kf-${name}`).value;
  if (name === "ease") { pushUndo(); k.ease = raw; edited(); return; }
  const value = Number(raw);
  if (raw === "" || !Number.isFinite(value)) return;
  const limits = {t: [0, duration()], zoom: [1, 4], x: [0, 1], y: [0, 1], angle: [-45, 45]}[name];
  pushUndo();
  k[name] = clamp(value, ...limits);
  if (name === "t") { sortKeyframes(); seek(k.t); }
  edited();
}

function dragMarker(event, index) {
  event.preventDefault();
  selectKeyframe(index);
  const timeline = $("timeline").getBoundingClientRect();
  let moved = false;
  const move = (e) => {
    if (!moved) { pushUndo(); moved = true; }  // a plain click selects; only a drag is an edit
    const t = clamp(((e.clientX - timeline.left) / timeline.width) * duration(), 0, duration());
    state.keyframes[state.selected].t = round(t, 2);
    sortKeyframes();
    seek(state.keyframes[state.selected].t);
    showKeyframes();
  };
  const up = () => {
    window.removeEventListener("pointermove", move);
    window.removeEventListener("pointerup", up);
    $("timeline").querySelector(`[data-keyframe="${state.selected}"]`)?.focus();
    if (moved) edited();
  };
  window.addEventListener("pointermove", move);
  window.addEventListener("pointerup", up);
}

function nudgeMarker(event, index) {
  const step = {ArrowLeft: -0.1, ArrowRight: 0.1}[event.key];
  if (step === undefined) return;
  event.preventDefault();
  selectKeyframe(index);
  pushUndo();
  const k = state.keyframes[state.selected];
  k.t = round(clamp(k.t + step * (event.shiftKey ? 5 : 1), 0, duration()), 2);
  sortKeyframes();
  seek(k.t);
  edited();
  $("timeline").querySelector(`[data-keyframe="${state.selected}"]`)?.focus();
}

// Dragging on the photo: the selected keyframe's frame moves, its corner zooms, its round handle turns.
let dragging = null;

function photoPoint(event) {
  const rect = $("stage-canvas").getBoundingClientRect();
  const {naturalWidth: w, naturalHeight: h} = state.image;
  return [((event.clientX - rect.left) / rect.width) * w, ((event.clientY - rect.top) / rect.height) * h];
}

function stagePointerDown(event) {
  if (!state.image) return;
  const [px, py] = photoPoint(event);
  if (!editing()) {
    if ($("focus").value !== "point") return;  // the focus changes only in its own mode
    const {naturalWidth: w, naturalHeight: h} = state.image;
    state.focusPoint = {x: round(clamp(px / w, 0, 1)), y: round(clamp(py / h, 0, 1))};
    showFocus();
    schedulePlan();
    draw();
    return;
  }
  const grab = 14 / stageScale();
  let key = state.keyframes[state.selected];
  let frame = frameOnPhoto(key);
  const {zoom, turn} = handlePoints(frame);
  let kind = null;
  if (Math.hypot(px - turn[0], py - turn[1]) < grab) kind = "turn";
  else if (Math.hypot(px - zoom[0], py - zoom[1]) < grab) kind = "zoom";
  else {
    // The frame under the pointer: the selected one first, else any keyframe's.
    const hit = (f) => { const [u, v] = inFrame(f, px, py); return Math.abs(u) <= f.hw && Math.abs(v) <= f.hh; };
    if (!hit(frame)) {
      const other = state.keyframes.findIndex((k) => hit(frameOnPhoto(k)));
      if (other < 0) return;
      selectKeyframe(other);
      key = state.keyframes[other];
      frame = frameOnPhoto(key);
    }
    kind = "move";
  }
  event.preventDefault();
  $("stage-canvas").setPointerCapture(event.pointerId);
  if (Math.abs(key.t - state.time) > 1e-6) { setPlaying(false); seek(key.t); }
  dragging = {kind, start: [px, py], key: {...key}, frame, moved: false};
}

function stagePointerMove(event) {
  if (!dragging) {
    if (state.image && editing()) $("stage-canvas").style.cursor = cursorAt(event);
    return;
  }
  const [px, py] = photoPoint(event);
  const {naturalWidth: w, naturalHeight: h} = state.image;
  const key = state.keyframes[state.selected];
  const {frame, start} = dragging;
  if (!dragging.moved) { pushUndo(); dragging.moved = true; }  // a click selects; only a drag is an edit
  if (dragging.kind === "move") {
    key.x = round(clamp(dragging.key.x + (px - start[0]) / w, 0, 1));
    key.y = round(clamp(dragging.key.y + (py - start[1]) / h, 0, 1));
  } else if (dragging.kind === "zoom") {
    // The corner follows the pointer along the frame's diagonal, about the frame's centre.
    const [u, v] = inFrame(frame, px, py);
    const reach = Math.max(Math.abs(u) / frame.hw, Math.abs(v) / frame.hh);
    key.zoom = round(clamp(dragging.key.zoom / Math.max(reach, 1e-3), 1, 4));
  } else {
    const angle = (Math.atan2(px - frame.cx, -(py - frame.cy)) * 180) / Math.PI;  // 0 straight up
    key.angle = round(clamp(-angle, -45, 45), 1);  // the frame turns one way, the picture the other
  }
  showKeyframes();
  draw();
}

function stagePointerUp() {
  if (!dragging) return;
  const {moved} = dragging;
  dragging = null;
  if (moved) edited();
}

function cursorAt(event) {
  const [px, py] = photoPoint(event);
  const frame = frameOnPhoto(state.keyframes[state.selected]);
  const {zoom, turn} = handlePoints(frame);
  const grab = 14 / stageScale();
  if (Math.hypot(px - turn[0], py - turn[1]) < grab) return "grab";
  if (Math.hypot(px - zoom[0], py - zoom[1]) < grab) return "nesw-resize";
  const [u, v] = inFrame(frame, px, py);
  return Math.abs(u) <= frame.hw && Math.abs(v) <= frame.hh ? "move" : "default";
}

function stageKey(event) {
  if (!editing() || !state.keyframes.length) return;
  const key = state.keyframes[state.selected];
  const big = event.shiftKey ? 5 : 1;
  const change = {
    ArrowLeft: () => { key.x = clamp(key.x - 0.01 * big, 0, 1); },
    ArrowRight: () => { key.x = clamp(key.x + 0.01 * big, 0, 1); },
    ArrowUp: () => { key.y = clamp(key.y - 0.01 * big, 0, 1); },
    ArrowDown: () => { key.y = clamp(key.y + 0.01 * big, 0, 1); },
    "+": () => { key.zoom = clamp(key.zoom * 1.05 ** big, 1, 4); },
    "=": () => { key.zoom = clamp(key.zoom * 1.05 ** big, 1, 4); },
    "-": () => { key.zoom = clamp(key.zoom / 1.05 ** big, 1, 4); },
    "[": () => { key.angle = clamp(key.angle - big, -45, 45); },
    "]": () => { key.angle = clamp(key.angle + big, -45, 45); },
  }[event.key];
  if (!change) return;
  event.preventDefault();
  pushUndo();
  change();
  for (const name of ["x", "y", "zoom", "angle"]) key[name] = round(key[name], name === "angle" ? 1 : 3);
  setPlaying(false);
  seek(key.t);
  edited();
}

// --- errors --------------------------------------------------------------------------------

const FIELD_SLOTS = ["sourceImage", "clientId", "motionType", "motionDirection", "motionStrength", "duration",
                     "outputFormat", "width", "height", "provider", "promptText", "focus", "keyframes", "variants",
                     "videoCodec", "motionBlur", "loop"];

function clearErrors() {
  for (const name of [...FIELD_SLOTS, "form"]) {
    const slot = $(`error-${name}`);
    if (slot) slot.textContent = "";
    $(name)?.removeAttribute("aria-invalid");
  }
}

function showErrors(body, status, {focusField = true} = {}) {
  if (!body || typeof body !== "object") {
    $("error-form").textContent = `The request failed (${status}).`;
    return;
  }
  let shown = false;
  for (const [key, messages] of Object.entries(body)) {
    // "keyframes[1].t", "focus.x" and "variants[2].width" are shown by their field, named in the text.
    const field = ["keyframes", "focus", "variants"].find((f) => key.startsWith(f)) || key;
    const slot = $(`error-${field}`);
    let text = Array.isArray(messages) ? messages.map((m) => typeof m === "string" ? m : JSON.stringify(m)).join(" ")
                                       : typeof messages === "string" ? messages : JSON.stringify(messages);
    if (key !== field) text = `${key.replace(/^keyframes\[(\d+)\]/, (_, i) => `Keyframe ${Number(i) + 1}`)}: ${text}`;
    if (slot) {
      slot.textContent = text;
      $(field)?.setAttribute("aria-invalid", "true");
      if (!shown && focusField) $(field)?.focus();
      shown = true;
    } else {
      $("error-form").textContent = text;
    }
  }
}

function showFocus() {
  const point = $("focus").value === "point" ? state.focusPoint : null;
  $("focus-point").textContent = $("focus").value === "point"
    ? (point ? `Across ${point.x}, down ${point.y}` : "Click the photo to choose the point.") : "";
}

// --- submit --------------------------------------------------------------------------------

const checkedVariants = () => [...document.querySelectorAll("input[name=variant]:checked")].map((b) => b.value);

function fileAsDataUri(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  if (!state.file) { showErrors({sourceImage: ["Choose a photo first."]}); $("sourceImage").focus(); return; }
  const fields = formFields();
  const shapes = checkedVariants();
  $("submit").disabled = true;
  try {
    let answer;
    if (shapes.length) {
      const common = {...fields};
      delete common.clientId;
      for (const json of ["keyframes", "focus"]) if (common[json]) common[json] = JSON.parse(common[json]);
      const variants = shapes.map((shape) => {
        const [width, height] = shape.split("x").map(Number);
        return {...common, width, height};
      });
      answer = await api(url("variants"), {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({sourceImage: await fileAsDataUri(state.file), clientId: fields.clientId, variants})});
      if (answer.ok) answer.body.jobs.forEach((job, i) => upsertJob(job, true, i === 0));
    } else {
      const data = new FormData();
      data.append("sourceImage", state.file);
      for (const [name, value] of Object.entries(fields)) if (value !== "") data.append(name, value);
      answer = await api(url("generate"), {method: "POST", body: data});
      if (answer.ok) upsertJob(answer.body, true, true);
    }
    if (!answer.ok) showErrors(answer.body, answer.status);
  } catch (error) {
    $("error-form").textContent = `Could not reach the server: ${error.message}`;
  } finally {
    $("submit").disabled = false;
  }
}

function submitLabel() {
  const n = checkedVariants().length;
  $("submit").textContent = n ? `Generate ${n} video${n === 1 ? "" : "s"}` : "Generate video";
}

// --- jobs ----------------------------------------------------------------------------------

const jobs = new Map();  // jobId -> latest job JSON
const announced = new Map();  // jobId -> the last quarter announced

function media(src, format, label, poster = null) {
  if (format === "gif" || src.includes(".gif")) return el("img", {src, alt: label, class: "media"});
  return el("video", {src, controls: true, playsinline: true, preload: "metadata", class: "media",
                      "aria-label": label, poster});
}

function describeJob(job) {
  const p = job.params;
  const move = p.keyframes ? `${p.keyframes.length}-keyframe path` : `${p.motionType} ${p.motionDirection}`;
  const codec = p.videoCodec && p.videoCodec !== "h264" ? ` ${p.videoCodec.toUpperCase()}` : "";
  const extras = `${p.loop ? " · loop" : ""}${p.motionBlur ? " · blur" : ""}`;
  return `${move} · ${p.width}×${p.height} ${p.outputFormat.toUpperCase()}${codec} · ${p.duration}s${extras}`;
}

function jobCard(job) {
  const p = job.params;
  const title = describeJob(job);
  const running = job.status === "queued" || job.status === "processing";
  const card = el("li", {class: `job ${job.status}`, id: `job-${job.jobId}`, "data-status": job.status, tabindex: "-1",
                         "aria-label": `Job: ${title}, ${job.status}`},
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
  if (job.framing?.subjectInFrame === false) {
    card.append(el("p", {class: "warn"}, "The subject leaves the frame at some point in this video."));
  }
  const actions = el("p", {class: "links"});
  if (job.status === "completed" && job.videoUrl) {
    card.append(media(job.videoUrl, p.outputFormat, title));
    actions.append(el("a", {href: job.videoUrl, download: `${job.jobId}.${p.outputFormat}`}, "Download"), " ",
      el("a", {href: url("asset", job.assetId), class: "asset-link"}, "Asset"), " ",
      el("button", {type: "button", class: "link", onclick: (e) => shareAsset(job.assetId, e.currentTarget)},
         "Copy share link"), " ");
  } else if (job.status === "completed") {
    card.append(el("p", {class: "muted"}, "Filing the video in the library…"));
  }
  actions.append(el("button", {type: "button", class: "link", onclick: () => reuse(job)}, "Use these settings again"));
  card.append(actions);
  return card;
}

function upsertJob(job, isNew = false, reveal = false) {
  if (job.clientId !== clientId()) return;
  const known = jobs.get(job.jobId);
  // Never go backwards; and a final status is the last word: a live progress event still on its way (sent
  // from the render before it saw the cancel) never brings a finished job back to "processing".
  const stale = known && (Date.parse(known.updatedAt) > Date.parse(job.updatedAt) ||
    (FINAL.has(known.status) && !FINAL.has(job.status)));
  if (stale) {
    // The socket can show a new job before the submit's own answer arrives: that answer is older, but the
    // card it asked to reveal is there, and a keyboard user's focus still goes to it.
    if (reveal) revealCard($(`job-${job.jobId}`));
    return;
  }
  jobs.set(job.jobId, job);
  const card = jobCard(job);
  const existing = $(`job-${job.jobId}`);
  const list = $("jobs");
  if (existing) {
    // Keep a playing video element and any share link shown; replace the rest.
    const oldMedia = existing.querySelector(".media");
    const newMedia = card.querySelector(".media");
    if (oldMedia && newMedia && oldMedia.getAttribute("src") === newMedia.getAttribute("src")) newMedia.replaceWith(oldMedia);
    const shared = existing.querySelector(".share");
    if (shared) card.append(shared);
    const hadFocus = existing.contains(document.activeElement) && document.activeElement === existing;
    existing.replaceWith(card);
    if (hadFocus) card.focus({preventScroll: true});
  } else if (isNew) list.prepend(card);
  else list.append(card);
  if (reveal) revealCard(card);
  tellProgress(job, known);
}

function revealCard(card) {
  if (!card) return;
  card.scrollIntoView({block: "center", behavior: "smooth"});
  card.focus({preventScroll: true});
}

function tellProgress(job, before) {
  if (!before) return;
  const quarter = Math.floor(job.progress / 25);
  if (job.status === "processing" && quarter > (announced.get(job.jobId) ?? 0) && quarter < 4) {
    announced.set(job.jobId, quarter);
    announce(`${describeJob(job)}: ${quarter * 25}% done`);
  }
  const final = job.status !== before.status || (job.assetId && !before.assetId);
  if (!final) return;
  if (job.status === "completed" && job.videoUrl && !before.videoUrl) {
    announce(`Your video is ready: ${describeJob(job)}`);
    toast("Your video is ready.", el("button", {type: "button", class: "link", onclick: () => {
      const card = $(`job-${job.jobId}`);
      card?.scrollIntoView({block: "center"});
      card?.querySelector("video")?.play();
      card?.focus({preventScroll: true});
    }}, "Play it"));
  } else if (job.status === "failed") {
    announce(`A job failed: ${job.error?.message || ""}`);
  }
}

function reuse(job) {
  const p = job.params;
  pushUndo();
  $("duration").value = String(p.duration);
  $("outputFormat").value = p.outputFormat;
  $("videoCodec").value = p.videoCodec || "h264";
  $("loop").checked = Boolean(p.loop);
  $("motionBlur").value = String(p.motionBlur || 0);
  $("width").value = String(p.width);
  $("height").value = String(p.height);
  matchSizePreset();
  if (p.keyframes) {
    state.keyframes = p.keyframes.map((k) => ({...k}));
    state.selected = 0;
    choosePreset("custom", {remember: false});
  } else {
    $("motionStrength").value = String(p.motionStrength);
    const focus = p.focus;
    if (focus && typeof focus === "object") { $("focus").value = "point"; state.focusPoint = focus; }
    else $("focus").value = focus || "auto";
    showFocus();
    const id = `${p.motionType}-${p.motionDirection}`;
    // Complex moves drifting left, right, up or down have no tile of their own: the nearest is "Drift in".
    choosePreset(PRESETS.some((t) => t.id === id) ? id : PRESETS.find((t) => t.type === p.motionType).id,
                 {remember: false});
  }
  sizeCanvases();
  toast("The form now has that job's settings.");
  $("panel-create").scrollIntoView({block: "start"});
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

// --- live updates --------------------------------------------------------------------------

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

// --- sharing -------------------------------------------------------------------------------

const SHARE_SECONDS = 7 * 24 * 3600;

async function shareAsset(assetId, button) {
  const holder = button.closest("li");
  holder.querySelector(".share")?.remove();
  const {ok, body, status} = await api(url("share", assetId), {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({expiresIn: SHARE_SECONDS})});
  if (!ok) { toast(body?.expiresIn?.[0] || body?.detail || `The link could not be made (${status}).`); return; }
  const until = new Date(body.expiresAt).toLocaleString();
  const field = el("input", {type: "text", readonly: true, value: body.url, class: "share-url",
                             "aria-label": "Share link", "data-testid": "share-url"});
  const box = el("div", {class: "share"}, field,
    el("span", {class: "muted small"}, `Plays without an account until ${until}. `),
    el("button", {type: "button", class: "link", onclick: async () => {
      const revoked = await api(url("share", assetId), {method: "DELETE"});
      if (revoked.ok) { box.remove(); toast("Every share link of this video has stopped working."); }
    }}, "Stop sharing"));
  holder.append(box);
  try {
    await navigator.clipboard.writeText(body.url);
    toast("Share link copied.");
  } catch {
    field.select();
    toast("Share link made: copy it from the box.");
  }
}

// --- the library ---------------------------------------------------------------------------

let nextPage = null;
let shownAssets = 0;

async function loadLibrary(event, more = false) {
  event?.preventDefault();
  let path;
  if (more && nextPage) path = nextPage;
  else {
    const params = new URLSearchParams({clientId: clientId()});
    for (const name of ["tag", "category", "search"]) {
      const value = $(`lib-${name}`).value.trim();
      if (value) params.set(name, value);
    }
    path = `${url("assets")}?${params}`;
  }
  const {ok, body} = await api(path);
  const list = $("assets");
  if (!more) { list.replaceChildren(); shownAssets = 0; }
  if (!ok) { $("library-count").textContent = "The library could not be loaded."; return; }
  for (const asset of body.results) list.append(assetCard(asset));
  shownAssets += body.results.length;
  nextPage = body.next;
  $("more").hidden = !nextPage;
  $("library-count").textContent = body.count === shownAssets
    ? `${body.count} asset${body.count === 1 ? "" : "s"}`
    : `Showing ${shownAssets} of ${body.count} assets`;
  showChips(body.results, more);
}

function assetCard(asset) {
  const gif = asset.contentType === "image/gif";
  const facts = `${asset.width}×${asset.height} · ${asset.duration}s · ${asset.fps} fps · ${asset.codec}`;
  const thumb = asset.posterUrl && !gif
    ? el("button", {type: "button", class: "thumb", "aria-label": `Play ${asset.name}`, onclick: (e) => {
        e.currentTarget.replaceWith(media(asset.url, "mp4", asset.name, asset.posterUrl));
        e.currentTarget.closest?.("li")?.querySelector("video")?.play();
      }}, el("img", {src: asset.posterUrl, alt: "", class: "poster", loading: "lazy", width: asset.width,
                     height: asset.height}), el("span", {class: "play", "aria-hidden": "true"}, "▶"))
    : media(asset.url, gif ? "gif" : "mp4", asset.name, asset.posterUrl);
  const source = asset.metadata?.sourceName ? ` · from ${asset.metadata.sourceName}` : "";
  const quality = asset.metadata?.quality;
  const measured = quality ? (quality.flags.length
    ? el("p", {class: "warn small"}, `Check: ${quality.flags.map((f) => QUALITY_WORDS[f] || f).join(", ")}`)
    : el("p", {class: "muted small"}, `Steady: jitter ${quality.jitterPx} px, no border`)) : null;
  return el("li", {class: "asset", "data-asset": asset.assetId},
    thumb,
    el("p", {}, el("strong", {}, asset.name)),
    el("p", {class: "muted facts"}, facts + source),
    measured,
    el("p", {class: "muted"}, [...asset.tags, ...asset.categories.map((c) => `#${c}`)].join(" · ")),
    el("p", {class: "links"}, el("a", {href: asset.url, download: ""}, "Download"), " ",
      el("button", {type: "button", class: "link", onclick: (e) => shareAsset(asset.assetId, e.currentTarget)},
         "Copy share link")));
}

const QUALITY_WORDS = {jitterPx: "the camera shakes", borderPixels: "edges outside the photo show",
                       subjectInFrame: "the subject leaves the frame", flicker: "the light flickers"};

function showChips(assets, more) {
  const chips = $("chips");
  const known = new Set(more ? [...chips.querySelectorAll("button")].map((b) => b.dataset.chip) : []);
  if (!more) chips.replaceChildren();
  for (const asset of assets) {
    for (const [kind, names] of [["tag", asset.tags], ["category", asset.categories]]) {
      for (const name of names) {
        const id = `${kind}:${name}`;
        if (known.has(id)) continue;
        known.add(id);
        const input = $(`lib-${kind}`);
        const active = input.value.split(",").map((v) => v.trim()).includes(name);
        chips.append(el("button", {type: "button", class: "chip", "data-chip": id, "aria-pressed": String(active),
          onclick: () => {
            const values = input.value.split(",").map((v) => v.trim()).filter(Boolean);
            input.value = (active ? values.filter((v) => v !== name) : [...values, name]).join(",");
            loadLibrary();
          }}, kind === "category" ? `#${name}` : name));
      }
    }
  }
}

// --- tabs and start ------------------------------------------------------------------------

function selectTab(tab) {
  for (const other of document.querySelectorAll("[role=tab]")) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute("aria-controls")).hidden = !selected;
  }
  if (tab.id === "tab-library") loadLibrary();
  else sizeCanvases();
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

function matchSizePreset() {
  const value = `${$("width").value}x${$("height").value}`;
  const preset = $("sizePreset");
  preset.value = [...preset.options].some((o) => o.value === value) ? value : "custom";
}

function init() {
  initTabs();
  buildTiles();
  restoreSettings();
  matchSizePreset();
  acceptDrops();
  for (const input of document.querySelectorAll("input[name=preset]")) input.checked = input.value === state.preset;
  showMode();
  showFocus();
  submitLabel();
  $("motionStrength").addEventListener("input", () => { describeStrength(); schedulePlan(); saveSettings(); });
  $("sizePreset").addEventListener("change", () => {
    const preset = $("sizePreset").value;
    if (preset === "custom") { $("width").focus(); return; }
    [$("width").value, $("height").value] = preset.split("x");
    sizeCanvases(); checkResolution(); schedulePlan(); saveSettings();
  });
  for (const id of ["width", "height"]) {
    $(id).addEventListener("input", () => { matchSizePreset(); sizeCanvases(); checkResolution(); schedulePlan(); saveSettings(); });
  }
  const showOutputs = () => {
    const format = $("outputFormat").value;
    $("codec-field").hidden = !["mp4", "mov"].includes(format);
    $("videoCodec").querySelector("option[value=av1]").disabled = format === "mov";
    if (format === "mov" && $("videoCodec").value === "av1") $("videoCodec").value = "h264";
    const blur = Number($("motionBlur").value);
    $("blur-value").value = blur ? `a ${Math.round(blur * 360)}° shutter` : "none";
  };
  showOutputs();
  $("outputFormat").addEventListener("change", showOutputs);
  $("motionBlur").addEventListener("input", () => { showOutputs(); saveSettings(); });
  for (const id of ["videoCodec", "loop"]) $(id).addEventListener("change", () => { schedulePlan(); saveSettings(); });
  for (const id of ["duration", "outputFormat", "provider", "promptText", "clientId"]) {
    $(id).addEventListener("change", () => {
      if (id === "duration") { seek(Math.min(state.time, duration() - 0.01)); if (editing()) showKeyframes(); }
      schedulePlan(); saveSettings();
    });
  }
  $("focus").addEventListener("change", () => { showFocus(); schedulePlan(); saveSettings(); draw(); });
  for (const box of document.querySelectorAll("input[name=variant]")) {
    box.addEventListener("change", () => { submitLabel(); saveSettings(); });
  }
  // The editor.
  const stage = $("stage-canvas");
  stage.addEventListener("pointerdown", stagePointerDown);
  stage.addEventListener("pointermove", stagePointerMove);
  stage.addEventListener("pointerup", stagePointerUp);
  stage.addEventListener("pointercancel", stagePointerUp);
  stage.addEventListener("keydown", stageKey);
  $("kf-add").addEventListener("click", addKeyframe);
  $("kf-delete").addEventListener("click", deleteKeyframe);
  $("undo").addEventListener("click", undoStep);
  $("redo").addEventListener("click", redoStep);
  for (const name of ["t", "zoom", "x", "y", "angle"]) $(`kf-${name}`).addEventListener("change", () => editField(name));
  $("kf-ease").addEventListener("change", () => editField("ease"));
  document.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== "z" || e.target.matches("input[type=text], textarea")) return;
    e.preventDefault();
    if (e.shiftKey) redoStep(); else undoStep();
  });
  $("play").addEventListener("click", () => setPlaying(!state.playing));
  $("scrub").addEventListener("input", () => { setPlaying(false); seek(Number($("scrub").value)); });
  $("duration").addEventListener("input", () => { $("scrub").max = String(duration()); });
  $("scrub").max = String(duration());
  window.addEventListener("resize", sizeCanvases);
  const provider = $("provider");
  const togglePrompt = () => { $("prompt-field").hidden = provider.value !== "runway"; };
  provider.addEventListener("change", togglePrompt);
  togglePrompt();
  $("generate-form").addEventListener("submit", submit);
  $("library-filter").addEventListener("submit", loadLibrary);
  $("more").addEventListener("click", () => loadLibrary(null, true));
  $("clientId").addEventListener("change", () => { loadJobs(); connect(); });
  if (clientId()) { loadJobs(); connect(); }
  requestAnimationFrame(tick);
  // For the browser tests: the preview's state, and whether the plan on screen is for the inputs as they are.
  window.__preview = {cameraAt, state, draw, seek, setPlaying, shownPath, planFresh: () => state.plan?.key === planKey()};
}

init();
