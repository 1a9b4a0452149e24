// tictactoe_js: the built-in `tictactoe` written as a script, event for event and field for field (the same
// integration tests run against both). Topics game:<name>; the first two joiners play X and O, the rest
// spectate. Events: move {"cell": 0..8}, reset {}. Option move_timeout_ms gives each move a clock.
const LINES = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];

const newGame = () => ({
    cells: Array(9).fill(null), turn: "X", winner: null, moves: 0, timedOut: null, clock: 0,
    playerX: 0, playerO: 0, nameX: "", nameO: "", spectators: [],
});
const MAX_SPECTATOR_NAMES = 50; // the state lists this many names; spectator_count counts them all

// Drops clientId from the spectators; true when it was one.
function removeSpectator(game, clientId) {
    const before = game.spectators.length;
    game.spectators = game.spectators.filter((spectator) => spectator.id !== clientId);
    return game.spectators.length !== before;
}

function stateOf(game, instance) {
    const player = (id, name) => (id === 0 ? null : { client_id: String(id), name });
    return {
        board: game.cells.slice(),
        turn: game.winner === null ? game.turn : null,
        winner: game.winner,
        players: { X: player(game.playerX, game.nameX), O: player(game.playerO, game.nameO) },
        moves: game.moves,
        move_timeout_ms: instance.options.move_timeout_ms,
        timed_out: game.timedOut,
        spectators: game.spectators.slice(0, MAX_SPECTATOR_NAMES).map((spectator) => spectator.name),
        spectator_count: game.spectators.length,
    };
}

function computeWinner(game) {
    for (const [a, b, c] of LINES) {
        if (game.cells[a] !== null && game.cells[a] === game.cells[b] && game.cells[a] === game.cells[c]) {
            return game.cells[a];
        }
    }
    return game.moves === 9 ? "draw" : null;
}

// (Re)starts the clock of the player to move, or stops it when the game cannot go on.
function armClock(instance, topic, game) {
    if (game.clock !== 0) {
        instance.cancelTimer(game.clock);
        game.clock = 0;
    }
    const timeout = instance.options.move_timeout_ms;
    if (timeout > 0 && game.playerX !== 0 && game.playerO !== 0 && game.winner === null) {
        game.clock = instance.after(timeout, (context) => {
            if (game.winner !== null) {
                return;
            }
            game.clock = 0;
            game.timedOut = game.turn;
            game.winner = game.turn === "X" ? "O" : "X";
            context.broadcast(topic, "state", stateOf(game, context));
        }, topic);
    }
}

function gameOf(channel) {
    const state = channel.topicState;
    if (state.game === undefined) {
        state.game = newGame();
    }
    return state.game;
}

function move(channel, game, args) {
    const role = channel.assigns.role;
    if (role === "spectator") {
        return channel.replyError("spectators cannot move");
    }
    if (game.winner !== null) {
        return channel.replyError("game over");
    }
    if (game.playerX === 0 || game.playerO === 0) {
        return channel.replyError("waiting for a second player");
    }
    if (game.turn !== role) {
        return channel.replyError("not your turn");
    }
    const cell = args.cell;
    if (typeof cell !== "number" || !Number.isInteger(cell) || cell < 0 || cell > 8) {
        return channel.replyError("cell must be a whole number from 0 to 8");
    }
    if (game.cells[cell] !== null) {
        return channel.replyError("cell " + cell + " is taken");
    }
    game.cells[cell] = game.turn;
    game.moves += 1;
    game.winner = computeWinner(game);
    game.turn = game.turn === "X" ? "O" : "X";
    armClock(channel.instance, channel.topic, game);
    channel.replyOk(stateOf(game, channel.instance));
    channel.broadcast("state", stateOf(game, channel.instance));
}

export default {
    name: "tictactoe_js",
    description: "tictactoe, written in JavaScript: game:<name> topics, two players, the rest spectate",
    topics: "game:*",
    options: {
        move_timeout_ms: {
            type: "int", default: 0, min: 0, max: 3600000,
            description: "time for each move in ms; when it runs out the other player wins (0 = off)",
        },
    },

    join(channel, params) {
        const game = gameOf(channel);
        removeSpectator(game, channel.clientId); // a client rejoining is listed once
        let name = params !== null && typeof params === "object" && typeof params.name === "string"
            ? params.name.slice(0, 64) : "";
        if (name === "") {
            name = "client-" + channel.clientId;
        }
        let role = "spectator";
        if (game.playerX === 0 || game.playerX === channel.clientId) {
            game.playerX = channel.clientId;
            game.nameX = name;
            role = "X";
        } else if (game.playerO === 0 || game.playerO === channel.clientId) {
            game.playerO = channel.clientId;
            game.nameO = name;
            role = "O";
        }
        channel.assigns.role = role;
        if (role === "spectator") {
            game.spectators.push({ id: channel.clientId, name });
        } else {
            armClock(channel.instance, channel.topic, game);
        }
        channel.broadcast("state", stateOf(game, channel.instance)); // a new player or spectator: the others see it
        return JoinResult.accept({ role, state: stateOf(game, channel.instance) });
    },

    handleIn(channel, event, payload) {
        const game = gameOf(channel);
        const args = payload !== null && typeof payload === "object" && !(payload instanceof ArrayBuffer) ? payload : {};
        if (event === "move") {
            return move(channel, game, args);
        }
        if (event === "reset") {
            if (channel.assigns.role === "spectator") {
                return channel.replyError("spectators cannot reset the game");
            }
            if (game.winner === null && game.moves > 0) {
                return channel.replyError("the game is still running");
            }
            Object.assign(game, { cells: Array(9).fill(null), turn: "X", winner: null, timedOut: null, moves: 0 });
            armClock(channel.instance, channel.topic, game);
            channel.replyOk();
            return channel.broadcast("state", stateOf(game, channel.instance));
        }
        channel.replyError("unknown event '" + event + "' (expected move or reset)");
    },

    leave(channel) {
        const game = channel.topicState.game;
        if (game === undefined) {
            return;
        }
        let changed = false;
        if (game.playerX === channel.clientId && channel.assigns.role === "X") {
            game.playerX = 0;
            game.nameX = "";
            changed = true;
        }
        if (game.playerO === channel.clientId && channel.assigns.role === "O") {
            game.playerO = 0;
            game.nameO = "";
            changed = true;
        }
        if (channel.assigns.role === "spectator" && removeSpectator(game, channel.clientId)) {
            channel.broadcastFrom("state", stateOf(game, channel.instance));
            return;
        }
        if (changed) {
            armClock(channel.instance, channel.topic, game); // a seat is free: the clock stops
            channel.broadcastFrom("state", stateOf(game, channel.instance));
        }
    },
    // The game goes with the topic's state when its last member leaves.
};
