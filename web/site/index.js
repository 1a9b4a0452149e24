// The index: the host's instances, refreshed every 2 s from /instances.json (a conditional request, so an
// unchanged list costs a bodiless 304).
"use strict";
(function () {
  const body = document.querySelector("#rooms tbody");
  const status = document.getElementById("status");
  document.getElementById("self").textContent = location.href;
  document.getElementById("self").href = location.href;
  document.getElementById("qr").src = "/qr.svg?text=" + encodeURIComponent(location.href);

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }
  function render(data) {
    document.getElementById("host").textContent = data.host || location.hostname;
    document.title = "wsserve on " + (data.host || location.hostname);
    body.textContent = "";
    for (const instance of data.instances) {
      const row = document.createElement("tr");
      row.dataset.id = instance.id;
      const name = document.createElement("td");
      const link = document.createElement("a");
      link.href = instance.page;
      link.textContent = instance.id;
      name.appendChild(link);
      if (instance.play) {
        const play = document.createElement("a");
        play.href = instance.play;
        play.textContent = "game";
        name.append(" · ", play);
      }
      row.appendChild(name);
      cell(row, instance.type);
      cell(row, String(instance.clients)).className = "clients";
      cell(row, instance.state);
      body.appendChild(row);
    }
    document.getElementById("empty").hidden = data.instances.length > 0;
    document.getElementById("rooms").hidden = data.instances.length === 0;
  }
  async function refresh() {
    try {
      const response = await fetch("/instances.json", { cache: "no-cache" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      render(await response.json());
      wsserve_status("Updated " + new Date().toLocaleTimeString(), "");
    } catch (error) {
      wsserve_status("The host does not answer (" + error.message + "); retrying", "bad");
    }
  }
  function wsserve_status(text, kind) {
    status.textContent = text;
    status.className = "status" + (kind ? " " + kind : "");
  }
  refresh();
  setInterval(refresh, 2000);
})();
