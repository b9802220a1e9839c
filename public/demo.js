// The live-room demo: the seed's chat room (join, say, see who is here) and a panel of what the
// backend pushed to this uid, on the edgepush client library — both rooms on one /gateway socket
// (`transport: "gateway"`). Chat frames are the page's own convention, carried as publish data:
// {kind: "join" | "here" | "say" | "leave", text?}.
import { EdgePushClient } from "./edgepush-client.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const NAME = /^[A-Za-z0-9_.:@-]{1,64}$/;

/** @type {EdgePushClient | null} */
let client = null;
let me = "";
let room = "";
const members = new Set();

$("uid").value = params.get("uid") ?? `guest-${Math.random().toString(36).slice(2, 6)}`;
$("room").value = params.get("room") ?? "lobby";
showPushHint($("uid").value);

$("join-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (client) leave();
  else join($("uid").value.trim(), $("room").value.trim());
});

$("say-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("say-input").value.trim();
  if (!text || !client) return;
  client.publish(room, { kind: "say", text });
  $("say-input").value = "";
});

// Tell the room before the tab goes; the socket closes with the page anyway.
addEventListener("pagehide", () => {
  if (client?.isOpen(room)) client.publish(room, { kind: "leave" });
});

if (params.has("uid") && params.has("room")) join($("uid").value, $("room").value);

/** Connects the uid room (pushes) and joins the chat room (publishes). */
function join(uid, group) {
  if (!NAME.test(uid) || !NAME.test(group)) return banner("Names are 1-64 characters of A-Z a-z 0-9 _ . : @ -");
  banner("");
  me = uid;
  room = group;
  members.clear();
  $("chat-log").replaceChildren();
  showPushHint(uid);
  setFormJoined(true);

  // One socket for the uid and the room; `?transport=rooms` shows the one-socket-per-room mode.
  const transport = params.get("transport") === "rooms" ? "rooms" : "gateway";
  client = new EdgePushClient({ transport, getToken: ({ group }) => devToken(uid, group) });
  client.on("open", (e) => {
    setStatus(e.group, "open", e.group === null ? `you · ${uid}` : `room · ${group}`);
    if (e.group === null || e.resumed) return;
    system(`You joined ${group}`);
    client.publish(group, { kind: "join" }, { echo: false });
    addMember(uid);
  });
  client.on("reconnecting", (e) => {
    const what = e.group === null ? "you" : "room";
    setStatus(e.group, "reconnecting", `${what} · retry in ${(e.delay / 1000).toFixed(1)} s`);
  });
  client.on("close", (e) => {
    if (!e.willReconnect) setStatus(e.group, "closed", e.group === null ? "you · offline" : "room · left");
    if (e.code === 4000) banner("The backend kicked this connection (4000).");
    if (e.code === 4001) banner(`The backend removed you from ${e.group} (4001).`);
  });
  client.on("error", (e) => banner(e.code === "token_failed" ? e.message : `${e.code}: ${e.message}`));
  client.on("message", (m) => (m.group === null ? showPush(m) : onChat(m.data)));
  setStatus(null, "connecting", "you · connecting…");
  setStatus(group, "connecting", "room · connecting…");
  void client.connect();
  void client.join(group);
}

function leave() {
  if (client?.isOpen(room)) client.publish(room, { kind: "leave" });
  client?.close();
  client = null;
  members.clear();
  renderMembers();
  system(`You left ${room}`);
  setFormJoined(false);
}

/** A chat frame from the room: `{from, data}` where data is the page's own convention. */
function onChat(payload) {
  const from = String(payload?.from ?? "?");
  const data = payload?.data ?? {};
  switch (data.kind) {
    case "join":
      addMember(from);
      system(`${from} joined`);
      // So the newcomer learns who was already here.
      if (from !== me) client?.publish(room, { kind: "here" }, { echo: false });
      break;
    case "here":
      addMember(from);
      break;
    case "leave":
      members.delete(from);
      renderMembers();
      system(`${from} left`);
      break;
    case "say":
      addMember(from);
      say(from, String(data.text ?? ""));
      break;
  }
}

async function devToken(uid, group) {
  const query = new URLSearchParams({ uid });
  if (group) query.set("groups", group);
  const res = await fetch(`/dev/token?${query}`);
  if (res.status === 404) {
    throw new Error("GET /dev/token is off (LEGACY_UID_HANDSHAKE is not true): this demo needs local dev, or a token from your backend");
  }
  if (!res.ok) throw new Error(`GET /dev/token answered ${res.status}`);
  return (await res.json()).token;
}

function showPush(m) {
  $("push-empty").hidden = true;
  const li = el("li", "", el("span", "meta", `seq ${m.seq} · ${m.id}`), el("time", "", clock(m.ts)));
  li.append(el("pre", "", typeof m.data === "string" ? m.data : JSON.stringify(m.data, null, 2)));
  $("push-log").prepend(li);
}

function showPushHint(uid) {
  $("push-uid").textContent = uid;
  $("push-hint").textContent = [
    `curl ${location.origin}/push`,
    `  -H "Authorization: Bearer $PUSH_SECRET"`,
    `  -H 'Content-Type: application/json'`,
    `  -d '{"uid":"${uid}","data":{"hello":"world"}}'`,
  ].join(" \\\n");
}

function say(from, text) {
  const li = el("li", from === me ? "mine" : "", el("span", "who", from), text, el("time", "", clock(Date.now())));
  append(li);
}

function system(text) {
  append(el("li", "system", text, el("time", "", clock(Date.now()))));
}

function append(li) {
  const log = $("chat-log");
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

function addMember(uid) {
  members.add(uid);
  renderMembers();
}

function renderMembers() {
  $("members").replaceChildren(...[...members].sort().map((uid) => el("span", uid === me ? "me" : "", uid)));
}

function setFormJoined(joined) {
  $("uid").disabled = joined;
  $("room").disabled = joined;
  $("join").textContent = joined ? "Leave" : "Join";
  $("join").className = joined ? "secondary" : "";
  $("say-input").disabled = !joined;
  $("say-send").disabled = !joined;
  if (joined) $("say-input").focus();
}

function setStatus(group, state, text) {
  const pill = $(group === null ? "status-uid" : "status-room");
  pill.dataset.state = state;
  pill.textContent = text;
}

function banner(text) {
  $("banner").hidden = !text;
  $("banner").textContent = text;
}

/** An element with a class and children; strings become text nodes, never HTML. */
function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
