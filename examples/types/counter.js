// counter: the smallest useful wsserve type. Every topic keeps a number; `inc` adds to it and everyone on
// the topic sees the new value. Drop this file into the types folder and create an instance of `counter`.
export default {
    description: "A shared number per topic: inc adds to it, everyone sees the new value",
    options: {
        step: { type: "int", default: 1, min: 1, max: 1000, description: "what one inc adds" },
    },

    join(channel) {
        return JoinResult.accept({ value: channel.topicState.value || 0 });
    },

    handleIn(channel, event, payload) {
        if (event !== "inc") {
            return channel.replyError("unknown event '" + event + "' (expected inc)");
        }
        const state = channel.topicState;
        state.value = (state.value || 0) + channel.instance.options.step;
        channel.replyOk({ value: state.value });
        channel.broadcast("value", { value: state.value });
    },
};
