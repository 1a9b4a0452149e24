// The chat/relay page: join a topic under a name, see who is online (Phoenix Presence), send "shout"s.
// chat echoes a message to its sender, relay does not: a message the reply confirms but that never came
// back is shown from here.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const messages = $("messages");
  let socket = null;
  let channel = null;
  let myName = "";
  const seen = new Set();
  $("name").value = wsserve.savedName();

  function show(name, body, mine) {
    wsserve.append(messages, (li) => {
      const who = document.createElement("span");
      who.className = "who" + (mine ? " out" : "");
      who.textContent = name + ":";
      li.append(who, document.createTextNode(body));
    });
  }
  function note(text) {
    wsserve.append(messages, (li) => { li.className = "muted"; li.textContent = text; });
  }
  function setJoined(joined) {
    $("message").disabled = !joined;
    $("send-button").disabled = !joined;
    $("join-button").textContent = joined ? "Leave" : "Join";
    $("name").disabled = joined;
    $("topic").disabled = joined;
  }

  $("join").addEventListener("submit", (event) => {
    event.preventDefault();
    if (channel) {
      channel.leave();
      socket.disconnect();
      channel = null;
      socket = null;
      setJoined(false);
      $("online").textContent = "";
      $("online-count").textContent = "0";
      wsserve.status(status, "Left.", "");
      return;
    }
    myName = $("name").value.trim();
    if (!myName) { $("name").focus(); return; }
    wsserve.saveName(myName);
    socket = wsserve.socket({ name: myName });
    socket.onError(() => wsserve.status(status, "Connection lost; reconnecting…", "bad"));
    channel = socket.channel($("topic").value.trim(), { name: myName });
    const presence = new Phoenix.Presence(channel);
    presence.onSync(() => {
      const online = $("online");
      online.textContent = "";
      const names = presence.list((name) => name).sort();
      for (const name of names) {
        const li = document.createElement("li");
        li.textContent = name + (name === myName ? " (you)" : "");
        online.appendChild(li);
      }
      $("online-count").textContent = String(names.length);
    });
    presence.onJoin((name, current) => { if (!current && name !== myName) note(name + " joined"); });
    presence.onLeave((name, current) => { if (current.metas.length === 0) note(name + " left"); });
    channel.on("shout", (msg) => {
      if (msg && msg.id) seen.add(msg.id);
      show(String(msg && msg.name || "?"), String(msg && msg.body || ""), msg && msg.name === myName);
    });
    channel.join()
      .receive("ok", (reply) => {
        if (reply && reply.name) myName = reply.name;
        setJoined(true);
        wsserve.status(status, "Joined " + channel.topic + " as " + myName + ".", "ok");
        $("message").focus();
      })
      .receive("error", (reply) => {
        wsserve.status(status, "Could not join: " + (reply && reply.reason || "refused"), "bad");
        channel.leave(); socket.disconnect(); channel = null; socket = null;
      })
      .receive("timeout", () => wsserve.status(status, "The host does not answer.", "bad"));
  });

  $("send").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = $("message").value.trim();
    if (!body || !channel) return;
    const id = Math.random().toString(36).slice(2) + Date.now().toString(36);
    channel.push("shout", { id, name: myName, body })
      .receive("ok", () => { if (!seen.has(id)) show(myName, body, true); seen.delete(id); })
      .receive("error", (reply) => note("Not sent: " + (reply && reply.reason || "refused")));
    $("message").value = "";
  });
})();
