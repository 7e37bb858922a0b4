// babelir judge: one pair at a time, graded from the keyboard. Document text is only ever set as
// textContent (never as HTML); the session token lives in sessionStorage, so a reload continues.
"use strict";

const TOKEN = "babelir-judge";
const $ = (id) => document.getElementById(id);
const GRADE_NAMES = {graded: ["not relevant", "related", "highly relevant", "perfectly relevant"],
                     binary: ["not relevant", "relevant"]};
let session = null;   // {token, assessor, langs, scale, grades}
let pair = null;      // the pair shown
let shownAt = 0;      // performance.now() when it was shown
let busy = false;

function saved() {
  try { return JSON.parse(sessionStorage.getItem(TOKEN) || "null"); } catch (e) { return null; }
}

async function api(method, path, body) {
  const headers = {"Accept": "application/json"};
  if (session) headers["Authorization"] = "Bearer " + session.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (response.status === 401 && path !== "/api/login") {
    logout("your session ended: log in again");
    throw new Error("unauthorised");
  }
  if (!response.ok) {
    const detail = data && data.detail;
    const error = new Error(typeof detail === "string" ? detail : "the server answered " + response.status);
    error.status = response.status;
    throw error;
  }
  return data;
}

function say(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", !!isError);
}

function showLogin(message) {
  $("login").hidden = false;
  $("judging").hidden = true;
  $("progress-panel").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login-error").textContent = message || "";
  $("name").focus();
}

function logout(message) {
  sessionStorage.removeItem(TOKEN);
  session = null;
  pair = null;
  showLogin(message);
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    session = await api("POST", "/api/login", {name: $("name").value, secret: $("secret").value});
  } catch (e) {
    session = null;
    $("login-error").textContent = e.message;
    return;
  }
  sessionStorage.setItem(TOKEN, JSON.stringify(session));
  $("secret").value = "";
  start();
}

function start() {
  $("login").hidden = true;
  $("judging").hidden = false;
  $("progress-panel").hidden = false;
  $("logout").hidden = false;
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  const langs = session.langs.includes("*") ? "every language" : session.langs.join(", ");
  $("who").textContent = session.assessor + " · " + langs + " · " + session.scale;
  const keys = $("keys");
  keys.replaceChildren();
  const names = GRADE_NAMES[session.scale] || [];
  for (const grade of session.grades) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.grade = String(grade);
    button.textContent = grade + " " + (names[grade] || "");
    button.addEventListener("click", () => judge(grade, "judged"));
    keys.appendChild(button);
  }
  for (const [label, status] of [["s skip", "skip"], ["x can't judge", "cant"]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.addEventListener("click", () => judge(null, status));
    keys.appendChild(button);
  }
  $("grade-keys").textContent = session.grades.join("–") + " grade";
  fillHelp();
  loadNext();
  refreshProgress();
}

function setText(element, text, lang, dir) {
  element.textContent = text || "";
  element.setAttribute("lang", lang && lang !== "und" ? lang : "");
  element.setAttribute("dir", dir || "auto");
}

function show(next) {
  pair = next;
  const passage = $("passage");
  passage.replaceChildren();
  if (!pair) {
    $("pair").hidden = true;
    $("done").hidden = false;
    for (const name of ["data-pair-id", "data-query-id", "data-doc-id"]) passage.removeAttribute(name);
    say("nothing left to judge in your languages");
    return;
  }
  $("pair").hidden = false;
  $("done").hidden = true;
  setText($("query"), pair.query, pair.query_lang, pair.query_dir);
  setText($("title"), pair.title, pair.doc_lang, pair.doc_dir);
  $("title").hidden = !pair.title;
  $("query-lang").textContent = pair.query_lang;
  $("doc-lang").textContent = pair.doc_lang;
  $("doc-id").textContent = pair.doc_id;
  passage.setAttribute("lang", pair.doc_lang && pair.doc_lang !== "und" ? pair.doc_lang : "");
  passage.setAttribute("dir", pair.doc_dir || "auto");
  passage.dataset.pairId = String(pair.id);
  passage.dataset.queryId = pair.query_id;
  passage.dataset.docId = pair.doc_id;
  for (const [text, isMatch] of pair.marks || [[pair.text, false]]) {
    if (isMatch) {
      const mark = document.createElement("mark");
      mark.textContent = text;
      passage.appendChild(mark);
    } else {
      passage.appendChild(document.createTextNode(text));
    }
  }
  shownAt = performance.now();
  say("query " + pair.query_id + " · pair " + pair.id);
}

async function loadNext() {
  try {
    const data = await api("GET", "/api/next");
    show(data.pair);
  } catch (e) {
    if (session) say(e.message, true);
  }
}

async function judge(grade, status) {
  if (busy || !pair) return;
  busy = true;
  const seconds = Math.max(0, Math.round((performance.now() - shownAt) / 10) / 100);
  try {
    await api("POST", "/api/judgments", {pair_id: pair.id, grade: grade, status: status, seconds: seconds});
    const data = await api("GET", "/api/next");
    show(data.pair);
    refreshProgress();
  } catch (e) {
    if (session) say(e.message, true);
    if (session && e.status === 409) {  // the pair is no longer this tab's: move on to the next one
      try { show((await api("GET", "/api/next")).pair); } catch (again) { say(again.message, true); return; }
      say(e.message + " (your key was not recorded: this is the next pair)", true);  // show() replaced it
    }
  } finally {
    busy = false;
  }
}

async function undo() {
  if (busy) return;
  busy = true;
  try {
    const data = await api("POST", "/api/undo");
    if (data.pair) {
      show(data.pair);
      say("undone: pair " + data.pair.id + " again");
      refreshProgress();
    } else {
      say("nothing to undo");
    }
  } catch (e) {
    if (session) say(e.message, true);
  } finally {
    busy = false;
  }
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = String(text);
  row.appendChild(td);
}

async function refreshProgress() {
  let data;
  try { data = await api("GET", "/api/progress"); } catch (e) { return; }
  const me = data.me;
  $("mine").textContent = "you: " + me.judged + " judged, " + me.skip + " skipped, " + me.cant +
    " can't judge, " + me.seconds + " s per pair";
  const body = $("progress").tBodies[0];
  body.replaceChildren();
  for (const lang of Object.keys(data.languages).sort()) {
    const row = document.createElement("tr");
    const entry = data.languages[lang];
    const mine = me.by_lang[lang] || {judged: 0};
    for (const value of [lang, entry.pairs, entry.complete, entry.judgments, mine.judged]) cell(row, value);
    body.appendChild(row);
  }
  const people = $("assessors").tBodies[0];
  people.replaceChildren();
  for (const name of Object.keys(data.assessors).sort()) {
    const entry = data.assessors[name];
    const row = document.createElement("tr");
    for (const value of [name, entry.judged, entry.skip, entry.cant, entry.seconds.toFixed(1)]) cell(row, value);
    people.appendChild(row);
  }
}

async function toggleGuidelines() {
  const panel = $("guidelines");
  if (!panel.hidden) { panel.hidden = true; return; }
  $("help").hidden = true;
  try {
    const data = await api("GET", "/api/guidelines");
    renderGuidelines(data.markdown);
    panel.hidden = false;
  } catch (e) {
    if (session) say(e.message, true);
  }
}

function renderGuidelines(markdown) {
  // Markdown shown as text: headings, list items and paragraphs by line, every line as textContent.
  const box = $("guidelines-text");
  box.replaceChildren();
  let list = null;
  for (const line of markdown.split("\n")) {
    const plain = line.replace(/\*\*/g, "");
    const heading = /^(#{1,6})\s+(.*)$/.exec(plain);
    const item = /^\s*[-*]\s+(.*)$/.exec(plain);
    let element;
    if (item) {
      if (!list) { list = document.createElement("ul"); box.appendChild(list); }
      element = document.createElement("li");
      element.textContent = item[1];
      list.appendChild(element);
      continue;
    }
    list = null;
    if (!plain.trim()) continue;
    element = document.createElement(heading ? "h3" : "p");
    element.textContent = heading ? heading[2] : plain;
    box.appendChild(element);
  }
}

function fillHelp() {
  const keys = $("help-keys");
  keys.replaceChildren();
  const names = GRADE_NAMES[session.scale] || [];
  const rows = session.grades.map((g) => [String(g), "grade " + g + ": " + (names[g] || "")]);
  rows.push(["s", "skip (someone else may judge it)"], ["x", "can't judge (language or content beyond you)"],
            ["u", "undo your last judgment"], ["g", "guidelines"], ["?", "these keys"], ["Esc", "close a panel"]);
  for (const [key, what] of rows) {
    const dt = document.createElement("dt");
    const kbd = document.createElement("kbd");
    kbd.textContent = key;
    dt.appendChild(kbd);
    const dd = document.createElement("dd");
    dd.textContent = what;
    keys.append(dt, dd);
  }
}

function onKey(event) {
  if (!session || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
  const key = event.key;
  if (key === "Escape") { $("guidelines").hidden = true; $("help").hidden = true; return; }
  const panelOpen = !$("guidelines").hidden || !$("help").hidden;
  if (panelOpen && key !== "g" && key !== "?") {  // a panel covers the passage: a key closes it, judges nothing
    $("guidelines").hidden = true;
    $("help").hidden = true;
    event.preventDefault();
    return;
  }
  if (key === "g") { toggleGuidelines(); }
  else if (key === "?") { $("guidelines").hidden = true; $("help").hidden = !$("help").hidden; }
  else if (key === "u") { undo(); }
  else if (key === "s") { judge(null, "skip"); }
  else if (key === "x") { judge(null, "cant"); }
  else if (/^[0-9]$/.test(key) && session.grades.includes(Number(key))) { judge(Number(key), "judged"); }
  else return;
  event.preventDefault();
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout(""));
  document.addEventListener("keydown", onKey);
  setInterval(() => { if (session && !document.hidden) refreshProgress(); }, 15000);  // others' progress too
  session = saved();
  if (session && session.token) start(); else showLogin("");
});
