// Shared by the wsserve pages: the instance id from the URL and a Phoenix socket to it (same origin, so the
// default check_origin passes). Phoenix is the official client's browser bundle (/static/phoenix.min.js).
"use strict";
const wsserve = {
  instanceId() {
    const match = location.pathname.match(/^\/i\/([A-Za-z0-9_-]{1,64})/);
    return match ? match[1] : "";
  },
  socket(params) {
    const socket = new Phoenix.Socket("/socket/" + wsserve.instanceId(), { params: params || {} });
    socket.connect();
    return socket;
  },
  status(element, text, kind) {
    element.textContent = text;
    element.className = "status" + (kind ? " " + kind : "");
  },
  savedName() {
    try { return localStorage.getItem("wsserve.name") || ""; } catch (e) { return ""; }
  },
  saveName(name) {
    try { localStorage.setItem("wsserve.name", name); } catch (e) { /* private mode */ }
  },
  // Appends a line to a role="log" list and keeps it scrolled to the end unless the reader scrolled up.
  append(list, build) {
    const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    const item = document.createElement("li");
    build(item);
    list.appendChild(item);
    while (list.children.length > 500) list.removeChild(list.firstChild);
    if (atEnd) list.scrollTop = list.scrollHeight;
  },
};
document.addEventListener("DOMContentLoaded", () => {
  const id = wsserve.instanceId();
  document.querySelectorAll("[data-instance]").forEach((e) => { e.textContent = id; });
  if (id) document.title = id + " – " + document.title;
});
