// The channel console (echo, chaos and any other type): join any topic, push any event with a JSON
// payload, and see every frame in and out (the client's logger sees each one).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const frames = $("frames");
  let channel = null;

  function frame(direction, text) {
    wsserve.append(frames, (li) => {
      const arrow = document.createElement("span");
      arrow.className = "who " + (direction === "in" ? "in" : "out");
      arrow.textContent = direction === "in" ? "← in" : direction === "out" ? "→ out" : "•";
      const code = document.createElement("code");
      code.textContent = text;
      li.append(arrow, code);
    });
  }
  const socket = new Phoenix.Socket("/socket/" + wsserve.instanceId(), {
    logger: (kind, message, data) => {
      if (kind === "push") frame("out", message + " " + JSON.stringify(data));
      else if (kind === "receive") frame("in", message + " " + JSON.stringify(data));
    },
  });
  socket.onOpen(() => frame("note", "socket open"));
  socket.onClose((event) => frame("note", "socket closed" + (event && event.code ? " (" + event.code + ")" : "")));
  socket.connect();

  function parse(text, what) {
    try { return JSON.parse(text); } catch (error) {
      wsserve.status(status, what + " is not JSON: " + error.message, "bad");
      return undefined;
    }
  }
  $("join").addEventListener("submit", (event) => {
    event.preventDefault();
    if (channel) {
      channel.leave();
      channel = null;
      $("join-button").textContent = "Join";
      $("push-button").disabled = true;
      wsserve.status(status, "Left.", "");
      return;
    }
    const params = parse($("params").value || "{}", "The join parameters");
    if (params === undefined) return;
    channel = socket.channel($("topic").value.trim(), params);
    channel.join()
      .receive("ok", () => {
        wsserve.status(status, "Joined " + channel.topic + ".", "ok");
        $("join-button").textContent = "Leave";
        $("push-button").disabled = false;
      })
      .receive("error", (reply) => {
        wsserve.status(status, "Join refused: " + JSON.stringify(reply), "bad");
        channel.leave();
        channel = null;
      });
  });
  $("push").addEventListener("submit", (event) => {
    event.preventDefault();
    const payload = parse($("payload").value || "{}", "The payload");
    if (payload === undefined || !channel) return;
    channel.push($("event").value.trim(), payload)
      .receive("ok", (reply) => wsserve.status(status, "ok: " + JSON.stringify(reply), "ok"))
      .receive("error", (reply) => wsserve.status(status, "error: " + JSON.stringify(reply), "bad"))
      .receive("timeout", () => wsserve.status(status, "no reply within 10 s", "bad"));
  });
  $("clear").addEventListener("click", () => { frames.textContent = ""; });
})();
