// The tic-tac-toe page: topic game:<name>; the server decides roles (X, O, spectator), checks moves and
// broadcasts "state" after each (a spectator joining or leaving too: "spectators" names the first 50 of
// them, "spectator_count" counts them all).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  let channel = null;
  let socket = null;
  let role = "";
  let state = null;
  $("name").value = wsserve.savedName();

  const cells = [];
  for (let i = 0; i < 9; i++) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.cell = String(i);
    button.setAttribute("role", "gridcell");
    button.setAttribute("aria-label", "row " + (Math.floor(i / 3) + 1) + ", column " + ((i % 3) + 1) + ": empty");
    button.disabled = true;
    button.addEventListener("click", () => move(i));
    $("board").appendChild(button);
    cells.push(button);
  }

  function render() {
    if (!state) return;
    const playing = role === "X" || role === "O";
    state.board.forEach((mark, i) => {
      cells[i].textContent = mark || "";
      cells[i].setAttribute("aria-label", "row " + (Math.floor(i / 3) + 1) + ", column " + ((i % 3) + 1) + ": " + (mark || "empty"));
      cells[i].disabled = !playing || !!mark || !!state.winner || state.turn !== role;
    });
    for (const seat of ["X", "O"]) {
      const player = state.players[seat];
      $("player-" + seat).textContent = player ? player.name + (seat === role ? " (you)" : "") : "free seat";
    }
    let text;
    if (state.winner === "draw") text = "A draw.";
    else if (state.winner) text = state.winner + " (" + ((state.players[state.winner] || {}).name || "?") + ") wins" + (state.timed_out ? " on time." : ".");
    else if (!state.players.X || !state.players.O) text = "Waiting for a second player.";
    else text = (state.turn === role ? "Your turn" : state.turn + " to play") + ".";
    $("turn").textContent = text;
    $("reset").disabled = !playing || !state.winner;
    renderSpectators(state.spectators || [], state.spectator_count || 0);
  }
  function renderSpectators(names, count) {
    const list = $("spectators");
    list.textContent = "";
    for (const name of names) {
      const li = document.createElement("li");
      li.textContent = name;
      list.appendChild(li);
    }
    if (count > names.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "and " + (count - names.length) + " more";
      list.appendChild(li);
    }
    $("spectator-count").textContent = String(count);
  }
  function move(cell) {
    channel.push("move", { cell })
      .receive("error", (reply) => wsserve.status(status, "Move refused: " + (reply && reply.reason || "?"), "bad"));
  }

  $("join").addEventListener("submit", (event) => {
    event.preventDefault();
    if (channel) { channel.leave(); socket.disconnect(); }
    const name = $("name").value.trim();
    if (!name) return;
    wsserve.saveName(name);
    socket = wsserve.socket({ name });
    socket.onError(() => wsserve.status(status, "Connection lost; reconnecting…", "bad"));
    channel = socket.channel("game:" + $("game").value.trim(), { name });
    channel.on("state", (next) => { state = next; render(); });
    channel.join()
      .receive("ok", (reply) => {
        role = reply.role;
        state = reply.state;
        $("role").textContent = role === "spectator" ? "You are watching: both seats are taken." : "You play " + role + ".";
        wsserve.status(status, "Joined " + channel.topic + " as " + name + ".", "ok");
        render();
      })
      .receive("error", (reply) => wsserve.status(status, "Could not join: " + (reply && reply.reason || "refused"), "bad"));
  });
  $("reset").addEventListener("click", () => {
    channel.push("reset", {})
      .receive("error", (reply) => wsserve.status(status, "Reset refused: " + (reply && reply.reason || "?"), "bad"));
  });
})();
