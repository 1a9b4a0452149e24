// quiz: a host asks timed questions, players answer, scores are broadcast. Topics quiz:<name>.
//
// Join with {"name": "ann"} to play, or {"name": "...", "host": true} to host (one host per quiz; the
// seat frees when the host leaves). Events:
//   host:   ask {"question": "...", "choices": ["a", "b", ...], "answer": <index>}
//             -> everyone gets question {"number", "question", "choices", "ms"}; the answer stays here
//           reveal {}  (ends the question early; otherwise it ends after question_ms)
//   player: answer {"choice": <index>}  (once per question, before time is up)
// When a question ends everyone gets reveal {"number", "answer", "scores": [{"name", "score"}...]};
// after `rounds` questions, final {"scores": [...]} and the quiz can start again.
// A right answer scores 100, plus up to 50 for answering fast.
const newQuiz = () => ({ host: 0, number: 0, current: null, scores: {} });

function quizOf(channel) {
    const state = channel.topicState;
    if (state.quiz === undefined) {
        state.quiz = newQuiz();
    }
    return state.quiz;
}

const table = (quiz) => Object.entries(quiz.scores)
    .map(([name, score]) => ({ name, score }))
    .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));

function finish(instance, topic, quiz) {
    const question = quiz.current;
    if (question === null) {
        return;
    }
    instance.cancelTimer(question.timer);
    quiz.current = null;
    for (const [name, answer] of Object.entries(question.answers)) {
        if (answer.choice === question.answer) {
            const remaining = Math.max(0, question.endsAt - answer.at);
            quiz.scores[name] += 100 + Math.round((50 * remaining) / question.ms);
        }
    }
    instance.broadcast(topic, "reveal", { number: question.number, answer: question.answer, scores: table(quiz) });
    if (question.number >= instance.options.rounds) {
        instance.broadcast(topic, "final", { scores: table(quiz) });
        quiz.number = 0;
        for (const name of Object.keys(quiz.scores)) {
            quiz.scores[name] = 0;
        }
    }
}

function ask(channel, quiz, payload) {
    if (quiz.current !== null) {
        return channel.replyError("question " + quiz.current.number + " is still open");
    }
    const { question, choices, answer } = payload;
    if (typeof question !== "string" || question.length === 0 || question.length > 500) {
        return channel.replyError("question must be a text of 1 to 500 characters");
    }
    if (!Array.isArray(choices) || choices.length < 2 || choices.length > 8
        || !choices.every((choice) => typeof choice === "string" && choice.length <= 200)) {
        return channel.replyError("choices must be 2 to 8 texts");
    }
    if (!Number.isInteger(answer) || answer < 0 || answer >= choices.length) {
        return channel.replyError("answer must be the index of the right choice");
    }
    const ms = channel.instance.options.question_ms;
    const number = quiz.number + 1;
    const topic = channel.topic;
    quiz.number = number;
    quiz.current = {
        number, answer, ms, answers: {}, endsAt: Date.now() + ms,
        timer: channel.instance.after(ms, (instance) => finish(instance, topic, quiz), topic),
    };
    channel.replyOk({ number });
    channel.broadcast("question", { number, question, choices, ms });
}

export default {
    description: "A timed quiz: a host asks, players answer, scores are broadcast (topics quiz:<name>)",
    topics: "quiz:*",
    options: {
        question_ms: { type: "int", default: 15000, min: 100, max: 600000, description: "time to answer, in ms" },
        rounds: { type: "int", default: 5, min: 1, max: 100, description: "questions per quiz" },
    },

    join(channel, params) {
        const quiz = quizOf(channel);
        const name = typeof params.name === "string" ? params.name.trim().slice(0, 40) : "";
        if (name === "") {
            return JoinResult.refuse("join with a name: {\"name\": \"...\"}");
        }
        if (params.host === true) {
            if (quiz.host !== 0) {
                return JoinResult.refuse("this quiz already has a host");
            }
            quiz.host = channel.clientId;
            channel.assigns.role = "host";
        } else {
            if (quiz.scores[name] === undefined) {
                quiz.scores[name] = 0;
            }
            channel.assigns.role = "player";
        }
        channel.assigns.name = name;
        const open = quiz.current === null ? null : { number: quiz.current.number };
        return JoinResult.accept({ role: channel.assigns.role, scores: table(quiz), open, rounds: channel.instance.options.rounds });
    },

    afterJoin(channel) {
        channel.trackPresence(channel.assigns.name, { role: channel.assigns.role });
    },

    handleIn(channel, event, payload) {
        const quiz = quizOf(channel);
        const args = payload !== null && typeof payload === "object" ? payload : {};
        const host = channel.assigns.role === "host";
        if (event === "ask" || event === "reveal") {
            if (!host) {
                return channel.replyError("only the host can " + event);
            }
            if (event === "ask") {
                return ask(channel, quiz, args);
            }
            if (quiz.current === null) {
                return channel.replyError("no open question");
            }
            channel.replyOk();
            return finish(channel.instance, channel.topic, quiz);
        }
        if (event === "answer") {
            if (host) {
                return channel.replyError("the host does not answer");
            }
            const question = quiz.current;
            if (question === null) {
                return channel.replyError("no open question");
            }
            if (question.answers[channel.assigns.name] !== undefined) {
                return channel.replyError("already answered");
            }
            if (!Number.isInteger(args.choice)) {
                return channel.replyError("choice must be the index of a choice");
            }
            question.answers[channel.assigns.name] = { choice: args.choice, at: Date.now() };
            return channel.replyOk({ number: question.number });
        }
        channel.replyError("unknown event '" + event + "' (host: ask, reveal; players: answer)");
    },

    leave(channel) {
        const quiz = channel.topicState.quiz;
        if (quiz !== undefined && quiz.host === channel.clientId) {
            quiz.host = 0;
        }
    },
};
