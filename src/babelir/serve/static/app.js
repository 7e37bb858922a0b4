// babelir's search page: no framework, no external resources. Text is inserted as text nodes
// (never as HTML), and each snippet's direction follows its own script (dir="auto").
"use strict";
const $ = (id) => document.getElementById(id);
const state = { indexes: [], index: null, mode: null, langs: new Set(), offset: 0, k: 10, total: 0, asked: "" };

function setStatus(text) { $("status").textContent = text; }

async function loadIndexes() {
  const response = await fetch("/v1/indexes");
  state.indexes = (await response.json()).indexes;
  const select = $("index");
  select.replaceChildren(...state.indexes.map((ix) => new Option(`${ix.name} (${ix.documents} docs)`, ix.name)));
  chooseIndex(state.indexes.length ? state.indexes[0].name : null);
}

function chooseIndex(name) {
  state.index = state.indexes.find((ix) => ix.name === name) || null;
  state.langs.clear();
  state.mode = state.index ? state.index.default_mode : null;
  renderModes();
  renderChips();
}

function renderModes() {
  const box = $("modes");
  box.replaceChildren();
  if (!state.index) return;
  for (const mode of state.index.modes) {
    const button = document.createElement("button");
    button.type = "button"; button.className = "toggle"; button.textContent = mode;
    button.setAttribute("role", "radio"); button.dataset.mode = mode;
    button.setAttribute("aria-checked", String(mode === state.mode));
    button.addEventListener("click", () => { state.mode = mode; renderModes(); rerun(); });
    box.append(button);
  }
}

function renderChips() {
  const box = $("chips");
  box.replaceChildren();
  if (!state.index) return;
  for (const [lang, count] of Object.entries(state.index.languages)) {
    const chip = document.createElement("button");
    chip.type = "button"; chip.className = "chip"; chip.dataset.lang = lang;
    chip.textContent = `${lang} · ${count}`;
    chip.setAttribute("aria-pressed", String(state.langs.has(lang)));
    chip.addEventListener("click", () => {
      state.langs.has(lang) ? state.langs.delete(lang) : state.langs.add(lang);
      renderChips(); rerun();
    });
    box.append(chip);
  }
}

function highlighted(text, marks) {
  // the snippet as text nodes with <mark> around each [start, end) of the highlights
  const out = document.createElement("p");
  out.className = "snippet"; out.dir = "auto";
  let at = 0;
  for (const [start, end] of marks) {
    if (start < at) continue;
    out.append(document.createTextNode(text.slice(at, start)));
    const mark = document.createElement("mark");
    mark.textContent = text.slice(start, end);
    out.append(mark);
    at = end;
  }
  out.append(document.createTextNode(text.slice(at)));
  return out;
}

function renderResults(data) {
  const list = $("results");
  list.replaceChildren();
  list.start = data.offset + 1;
  for (const hit of data.results) {
    const item = document.createElement("li");
    item.dataset.id = hit.id; item.dataset.lang = hit.lang || "und";
    const head = document.createElement("div"); head.className = "head";
    const badge = document.createElement("span"); badge.className = "badge"; badge.textContent = hit.lang || "und";
    const title = document.createElement("span"); title.className = "title"; title.dir = "auto";
    title.textContent = hit.title || hit.id;
    const score = document.createElement("span"); score.className = "score";
    score.textContent = `score ${hit.score.toFixed(3)}`;
    head.append(badge, title, score);
    item.append(head, highlighted(hit.snippet, hit.highlights));
    item.tabIndex = 0;
    list.append(item);
  }
  state.total = data.total;
  const pages = Math.max(1, Math.ceil(data.total / state.k));
  $("page").textContent = `page ${Math.floor(data.offset / state.k) + 1} of ${pages}`;
  $("prev").disabled = data.offset === 0;
  $("next").disabled = data.offset + state.k >= data.total;
  const alternatives = (data.lang_alternatives || []).length ? ` (or ${data.lang_alternatives.join(", ")}: the detector cannot tell them apart)` : "";
  setStatus(`${data.total} results · mode ${data.mode} · query language: ${data.detected_lang}${alternatives}`);
  $("status").dataset.lang = data.detected_lang;
}

function renderVerdict(abstain, asked) {
  // abstention (babelir abstain calibrate): "answerable" shows P(relevant in top k) above the
  // results; "not answerable" says no relevant passage was found and folds the results away in
  // <details>, kept open across pages of the same search once the reader opens it
  const verdict = $("verdict"), closest = $("closest"), hits = $("hits");
  verdict.replaceChildren();
  const line = abstain ? `P(relevant in top ${abstain.k}) = ${abstain.p.toFixed(2)}` : "";
  if (abstain && !abstain.answerable) {
    const head = document.createElement("strong");
    head.textContent = "No relevant passage found";
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = `${line}, below the threshold ${abstain.threshold.toFixed(2)} (${abstain.lang})`;
    verdict.append(head, detail);
    verdict.className = "none"; verdict.hidden = false; verdict.dataset.answerable = "false";
    if (closest.hidden || state.asked !== asked) closest.open = false;
    closest.append(hits); closest.hidden = false;
  } else {
    verdict.textContent = line;
    verdict.className = "probability"; verdict.hidden = !abstain;
    verdict.dataset.answerable = abstain ? "true" : "";
    closest.hidden = true; closest.open = false;
    closest.after(hits);
  }
  state.asked = asked;
}

async function run() {
  const q = $("q").value.trim();
  if (!q || !state.index) return;
  const params = new URLSearchParams({ index: state.index.name, q, k: state.k, offset: state.offset, mode: state.mode });
  if (state.langs.size) params.set("langs", [...state.langs].join(","));
  setStatus("searching…");
  const response = await fetch(`/v1/search?${params}`);
  const data = await response.json();
  if (!response.ok) {
    setStatus(`error: ${typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)}`);
    $("results").replaceChildren();
    renderVerdict(null, "");
    return;
  }
  renderResults(data);
  renderVerdict(data.abstain, params.toString().replace(/&offset=\d+/, ""));
}

function rerun() { state.offset = 0; if ($("q").value.trim()) run(); }

$("search").addEventListener("submit", (event) => { event.preventDefault(); state.offset = 0; run(); });
$("index").addEventListener("change", (event) => { chooseIndex(event.target.value); rerun(); });
$("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.k); run(); });
$("next").addEventListener("click", () => { state.offset += state.k; run(); });
document.addEventListener("keydown", (event) => {
  if (event.key === "/" && document.activeElement !== $("q")) { event.preventDefault(); $("q").focus(); }
});
loadIndexes();
