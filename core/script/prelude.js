// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// The runtime every script engine evaluates before a type's file. It turns the native bridge (a function
// argument, never a global) into the SDK's JavaScript face: Channel and Instance objects, console,
// JoinResult; and it answers the C++ side (ScriptBehaviour) with one function per IBehaviour callback.
// Nothing here reaches files, the network, processes or modules: the engine has none of them installed.
(function (native) {
    "use strict";

    const CALLBACKS = ["instanceStarted", "connect", "matchesTopic", "join", "topicStarted", "afterJoin",
        "handleIn", "leave", "topicEmpty"];
    const REQUIRED = ["join", "handleIn"];
    const FIELDS = ["name", "description", "options", "topics"];
    const OPTION_KINDS = ["bool", "int", "string"];
    const LEAVE_REASONS = ["invalid", "left", "duplicate_join", "stopped", "crashed", "disconnected", "shutdown"];

    const describe = (value) => {
        if (typeof value === "string") {
            return value;
        }
        if (value instanceof Error) {
            return value.stack ? value.toString() + "\n" + value.stack : value.toString();
        }
        try {
            const text = JSON.stringify(value);
            return text === undefined ? String(value) : text;
        } catch (error) {
            return String(value);
        }
    };
    const printer = (level) => (...args) => native.log(level, args.map(describe).join(" "));
    const console = Object.freeze({
        log: printer(0), info: printer(0), debug: printer(0), warn: printer(1), error: printer(2),
    });
    const JoinResult = Object.freeze({
        accept: (response) => Object.freeze({ ok: true, response: response === undefined ? {} : response }),
        refuse: (reason) => Object.freeze({ ok: false, response: { reason: String(reason) } }),
    });

    // Payloads: ArrayBuffers and typed arrays go out as binary frames, everything else as JSON.
    const isBinary = (payload) => payload instanceof ArrayBuffer || ArrayBuffer.isView(payload);
    const bytesOf = (payload) => payload instanceof ArrayBuffer
        ? payload
        : payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength);
    const wire = (payload) => (payload === undefined ? {} : isBinary(payload) ? bytesOf(payload) : payload);
    const text = (value, what) => {
        if (typeof value !== "string") {
            throw new TypeError(what + " must be a string, not " + typeof value);
        }
        return value;
    };

    let type = null;
    let instance = null;
    const channels = new Map(); // clientId \0 topic -> Channel
    const topicStates = new Map(); // topic -> plain object, dropped after topicEmpty
    const timers = new Map(); // id -> {callback, repeat, topic}
    const keyOf = (clientId, topic) => clientId + "\u0000" + topic;

    const topicState = (topic) => {
        let state = topicStates.get(topic);
        if (state === undefined) {
            state = {};
            topicStates.set(topic, state);
        }
        return state;
    };

    class Channel {
        constructor(clientId, topic, connectInfo) {
            Object.defineProperty(this, "clientId", { value: clientId, enumerable: true });
            Object.defineProperty(this, "topic", { value: topic, enumerable: true });
            Object.defineProperty(this, "connectInfo", { value: connectInfo, enumerable: true });
            this.assigns = {};
        }
        get instance() { return instance; }
        get topicState() { return topicState(this.topic); }
        reply(status, payload) {
            const body = wire(payload);
            native.reply(this.clientId, this.topic, text(status, "status"), body, isBinary(body));
        }
        replyOk(payload) { this.reply("ok", payload); }
        replyError(reason) { native.reply(this.clientId, this.topic, "error", { reason: String(reason) }, false); }
        push(event, payload) {
            const body = wire(payload);
            native.push(this.clientId, this.topic, text(event, "event"), body, isBinary(body));
        }
        broadcast(event, payload) {
            const body = wire(payload);
            native.broadcastFrom(this.clientId, this.topic, text(event, "event"), body, isBinary(body), false);
        }
        broadcastFrom(event, payload) {
            const body = wire(payload);
            native.broadcastFrom(this.clientId, this.topic, text(event, "event"), body, isBinary(body), true);
        }
        stop() { native.stop(this.clientId, this.topic); }
        trackPresence(key, meta) {
            native.trackPresence(this.clientId, this.topic, String(key), meta === undefined ? {} : meta);
        }
        updatePresence(meta) { native.updatePresence(this.clientId, this.topic, meta === undefined ? {} : meta); }
        untrackPresence() { native.untrackPresence(this.clientId, this.topic); }
    }

    const timer = (ms, callback, topic, repeat) => {
        if (typeof callback !== "function") {
            throw new TypeError((repeat ? "every" : "after") + "(ms, callback, topic): callback must be a function");
        }
        const scope = topic === undefined ? "" : text(topic, "topic");
        const id = native.startTimer(Number(ms), scope, repeat);
        if (id !== 0) {
            timers.set(id, { callback, repeat, topic: scope });
        }
        return id;
    };

    const makeInstance = (id, options) => Object.freeze({
        id,
        options: Object.freeze(options),
        state: {},
        broadcast(topic, event, payload) {
            const body = wire(payload);
            native.broadcast(text(topic, "topic"), text(event, "event"), body, isBinary(body));
        },
        pushTo(clientId, topic, event, payload) {
            const body = wire(payload);
            return native.pushTo(Number(clientId), text(topic, "topic"), text(event, "event"), body, isBinary(body));
        },
        kick(clientId, reason) { native.kick(Number(clientId), reason === undefined ? "kicked" : String(reason)); },
        members(topic) {
            const name = text(topic, "topic");
            return native.members(name).map((clientId) => {
                const channel = channels.get(keyOf(clientId, name));
                return { clientId, assigns: channel ? channel.assigns : {} };
            });
        },
        presenceList(topic) { return native.presenceList(text(topic, "topic")); },
        topicState(topic) { return topicState(text(topic, "topic")); },
        after(ms, callback, topic) { return timer(ms, callback, topic, false); },
        every(ms, callback, topic) { return timer(ms, callback, topic, true); },
        cancelTimer(timerId) {
            timers.delete(timerId);
            return native.cancelTimer(Number(timerId));
        },
    });

    // Checks a type's default export; returns {name, description, options: [...]}, or throws naming the field.
    const define = (declaration, fallbackName) => {
        if (declaration === null || typeof declaration !== "object" || Array.isArray(declaration)) {
            throw new TypeError("export default must be an object with the type's callbacks, not "
                + (declaration === null ? "null" : typeof declaration));
        }
        for (const key of Object.keys(declaration)) {
            if (!CALLBACKS.includes(key) && !FIELDS.includes(key)) {
                throw new TypeError("unknown field '" + key + "' (callbacks: " + CALLBACKS.join(", ")
                    + "; fields: " + FIELDS.join(", ") + ")");
            }
        }
        for (const name of CALLBACKS) {
            if (declaration[name] !== undefined && typeof declaration[name] !== "function") {
                throw new TypeError("'" + name + "' must be a function");
            }
        }
        for (const name of REQUIRED) {
            if (typeof declaration[name] !== "function") {
                throw new TypeError("missing callback '" + name + "' (every type answers joins and events)");
            }
        }
        const name = declaration.name === undefined ? fallbackName : declaration.name;
        if (typeof name !== "string" || !/^[a-z][a-z0-9_-]{0,63}$/.test(name)) {
            throw new TypeError("name must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter (got "
                + JSON.stringify(name) + ")");
        }
        if (declaration.description !== undefined && typeof declaration.description !== "string") {
            throw new TypeError("description must be a string");
        }
        if (declaration.topics !== undefined
            && (typeof declaration.topics !== "string" || declaration.topics.length === 0)) {
            throw new TypeError("topics must be a topic or a prefix ending in '*', e.g. \"room:*\"");
        }
        if (declaration.topics !== undefined && declaration.matchesTopic !== undefined) {
            throw new TypeError("give either topics or matchesTopic, not both");
        }
        const options = [];
        const declared = declaration.options === undefined ? {} : declaration.options;
        if (declared === null || typeof declared !== "object" || Array.isArray(declared)) {
            throw new TypeError("options must be an object: { name: { type, default, min, max, description } }");
        }
        for (const [option, spec] of Object.entries(declared)) {
            const where = "option '" + option + "': ";
            if (!/^[a-z][a-z0-9_]{0,63}$/.test(option)) {
                throw new TypeError(where + "names are a-z, 0-9 and _, starting with a letter");
            }
            if (spec === null || typeof spec !== "object") {
                throw new TypeError(where + "must be an object { type, default, min, max, description }");
            }
            for (const key of Object.keys(spec)) {
                if (!["type", "default", "min", "max", "description"].includes(key)) {
                    throw new TypeError(where + "unknown field '" + key + "' (type, default, min, max, description)");
                }
            }
            if (!OPTION_KINDS.includes(spec.type)) {
                throw new TypeError(where + "type must be one of " + OPTION_KINDS.join(", ") + " (got "
                    + JSON.stringify(spec.type) + ")");
            }
            const entry = { name: option, kind: spec.type, description: spec.description === undefined ? "" : String(spec.description) };
            if (spec.type === "int") {
                const whole = (value) => typeof value === "number" && Number.isSafeInteger(value);
                entry.min = spec.min === undefined ? 0 : spec.min;
                entry.max = spec.max === undefined ? 2147483647 : spec.max;
                entry.default = spec.default === undefined ? entry.min : spec.default;
                if (!whole(entry.min) || !whole(entry.max) || !whole(entry.default)) {
                    throw new TypeError(where + "default, min and max must be whole numbers");
                }
                if (entry.min > entry.max || entry.default < entry.min || entry.default > entry.max) {
                    throw new TypeError(where + "needs min <= default <= max (got " + entry.min + " <= " + entry.default
                        + " <= " + entry.max + ")");
                }
            } else {
                if (spec.min !== undefined || spec.max !== undefined) {
                    throw new TypeError(where + "min and max are for int options");
                }
                const fallback = spec.type === "bool" ? false : "";
                entry.default = spec.default === undefined ? fallback : spec.default;
                if (typeof entry.default !== typeof fallback) {
                    throw new TypeError(where + "default must be a " + (spec.type === "bool" ? "boolean" : "string"));
                }
            }
            options.push(entry);
        }
        type = declaration;
        return { name, description: declaration.description === undefined ? "" : declaration.description, options };
    };

    const call = (name, ...args) => (type[name] === undefined ? undefined : type[name].apply(type, args));
    const channelOf = (clientId, topic) => {
        const channel = channels.get(keyOf(clientId, topic));
        if (channel === undefined) {
            throw new Error("wsserve: no channel for client " + clientId + " on " + topic);
        }
        return channel;
    };
    const joinResult = (result) => {
        if (result === undefined || result === true) {
            return JoinResult.accept();
        }
        if (result === false) {
            return JoinResult.refuse("refused");
        }
        if (result !== null && typeof result === "object" && typeof result.ok === "boolean") {
            return { ok: result.ok, response: result.response === undefined ? {} : result.response };
        }
        throw new TypeError("join must return JoinResult.accept(response), JoinResult.refuse(reason), true, false "
            + "or nothing");
    };

    const runtime = {
        console,
        JoinResult,
        define,
        instanceStarted(id, options) {
            instance = makeInstance(id, options);
            call("instanceStarted", instance);
        },
        connect(info) {
            const refusal = call("connect", info);
            return refusal === undefined || refusal === null || refusal === true ? "" : String(refusal || "refused");
        },
        matchesTopic(topic) {
            if (type.topics !== undefined) {
                return type.topics.endsWith("*") ? topic.startsWith(type.topics.slice(0, -1)) && topic.length >= type.topics.length
                    : topic === type.topics;
            }
            return type.matchesTopic === undefined ? true : Boolean(call("matchesTopic", topic));
        },
        join(clientId, topic, connectInfo, params) {
            const key = keyOf(clientId, topic);
            const channel = new Channel(clientId, topic, connectInfo);
            channels.set(key, channel);
            let result;
            try {
                result = joinResult(call("join", channel, params));
            } catch (error) {
                channels.delete(key);
                throw error;
            }
            if (!result.ok) {
                channels.delete(key);
            }
            return { ok: result.ok, response: result.response, assigns: channel.assigns };
        },
        topicStarted(topic) { call("topicStarted", instance, topic); },
        afterJoin(clientId, topic) {
            const channel = channelOf(clientId, topic);
            call("afterJoin", channel);
            return channel.assigns;
        },
        handleIn(clientId, topic, event, payload) { call("handleIn", channelOf(clientId, topic), event, payload); },
        leave(clientId, topic, reason) {
            const key = keyOf(clientId, topic);
            const channel = channels.get(key);
            if (channel === undefined) {
                return;
            }
            try {
                call("leave", channel, LEAVE_REASONS[reason] || "invalid");
            } finally {
                channels.delete(key);
            }
        },
        topicEmpty(topic) {
            try {
                call("topicEmpty", instance, topic);
            } finally {
                topicStates.delete(topic);
                for (const [id, entry] of timers) {
                    if (entry.topic === topic) {
                        timers.delete(id); // the instance already cancelled them
                    }
                }
            }
        },
        fireTimer(id) {
            const entry = timers.get(id);
            if (entry === undefined) {
                return;
            }
            if (!entry.repeat) {
                timers.delete(id);
            }
            entry.callback.call(undefined, instance);
        },
        timerCount() { return timers.size; },
        channelCount() { return channels.size; },
    };
    return Object.freeze(runtime);
})
