// The Node `ws` baseline for bench/run: the same two modes as bench/baselines/qtraw (see its main.cpp).
//   node server.js --mode echo|broadcast [--port 0]
// Prints `nodews: listening on PORT` once listening (127.0.0.1 only).
"use strict";
const { WebSocketServer } = require("ws");

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const mode = opt("--mode", "echo");
if (mode !== "echo" && mode !== "broadcast") {
  console.error("nodews: --mode must be echo or broadcast");
  process.exit(2);
}
const broadcast = mode === "broadcast";

const okReply = (m, response) =>
  JSON.stringify([m[0], m[1], m[2], "phx_reply", { status: "ok", response }]);

const wss = new WebSocketServer({
  host: "127.0.0.1",
  port: Number(opt("--port", "0")),
  backlog: 4096,
  perMessageDeflate: false,
  clientTracking: true,
});

wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    let m;
    try {
      m = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (!Array.isArray(m) || m.length < 5) return;
    if (!broadcast) {
      ws.send(okReply(m, m[4]));
      return;
    }
    const event = m[3];
    if (event === "phx_join" || event === "phx_leave" || event === "heartbeat") {
      ws.send(okReply(m, {}));
      return;
    }
    // encoded once; ws frames the same Buffer for every client
    const frame = Buffer.from(JSON.stringify([null, null, m[2], event, m[4]]));
    for (const c of wss.clients) if (c.readyState === 1) c.send(frame, { binary: false });
    ws.send(okReply(m, {}));
  });
});

wss.on("listening", () => {
  console.log(`nodews: listening on ${wss.address().port}`);
});

const stop = () => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
