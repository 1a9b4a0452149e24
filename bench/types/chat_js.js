// The benchmark's scripted chat (bench/run server `wsserve_js`): `chat` with presence=false in JavaScript.
// The script calls broadcast once; the fan-out (encode once, write to every member) stays native.
export default {
    description: "chat without presence, in JavaScript (benchmark)",
    join() { return true; },
    handleIn(channel, event, payload) {
        channel.broadcast(event, payload);
        channel.replyOk();
    },
};
