// The benchmark's scripted echo (bench/run server `wsserve_js`): the built-in `echo` in JavaScript.
export default {
    description: "echo, in JavaScript (benchmark)",
    join() { return true; },
    handleIn(channel, event, payload) { channel.replyOk(payload); },
};
