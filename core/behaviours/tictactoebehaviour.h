// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviour.h"

#include <QHash>
#include <QList>

#include <array>
#include <utility>

namespace wsserve {

// `tictactoe`: an authoritative game per topic `game:<name>`. The first two joiners play X and O, the
// rest spectate. Events: `move {"cell": 0..8}` (validated: your turn, free cell, game not over; refused
// with a reason otherwise) and `reset {}` (players only, once the game ended or before a move). Option
// `move_timeout_ms` (0 = off) gives each move a clock; on expiry the other player wins. Every change broadcasts
// the full `state`; the join reply carries {"role": "X"|"O"|"spectator", "state": {...}}. The state names
// who watches: "spectators" (the first kMaxSpectatorNames names, in join order) and "spectator_count" (all
// of them); a spectator joining or leaving is a change too. A player leaving frees the seat for the next joiner;
// the game is dropped when its last member (player or spectator) leaves.
// Games are kept in the instance's storage(), so one in progress survives a restart of the instance or of
// wsserve (with a data folder): the seats then wait for their players' names (join params {"name": ...});
// a joiner with another name takes a seat only when no name holds it.
class TicTacToeBehaviour final : public IBehaviour
{
public:
    // moveTimeoutMs > 0: the player to move has that long, else the other one wins (state has
    // "timed_out": the role that ran out of time). The clock runs while both seats are taken.
    explicit TicTacToeBehaviour(int moveTimeoutMs = 0);
    // The state lists at most this many spectator names (its "spectator_count" counts them all).
    static constexpr int kMaxSpectatorNames = 50;

    bool matchesTopic(const QString &topic) const override;
    JoinResult join(ChannelContext &channel, const QJsonValue &params) override;
    void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) override;
    void leave(ChannelContext &channel, LeaveReason reason) override;
    // The game goes with its last member, finished or not.
    void topicEmpty(InstanceContext &instance, const QString &topic) override;

private:
    struct Game {
        std::array<QChar, 9> cells{};
        QChar turn = QLatin1Char('X');
        QString winner; // "", "X", "O" or "draw"
        quint64 playerX = 0;
        quint64 playerO = 0;
        QString nameX;
        QString nameO;
        int moves = 0;
        QString timedOut; // the role that ran out of time, if that ended the game
        TimerId clock = 0;
        // Who watches, in join order (client id, name); not kept in storage: connections do not survive.
        QList<std::pair<quint64, QString>> spectators;
    };
    QJsonObject stateOf(const Game &game) const;
    // The topic's game: the running one, else the one kept in storage (seats held for the names), else new.
    Game &gameFor(InstanceContext &instance, const QString &topic);
    static void save(InstanceContext &instance, const QString &topic, const Game &game);
    // (Re)starts the move clock for the player to move, or stops it when the game cannot go on.
    void armClock(InstanceContext &instance, const QString &topic, Game &game);
    void onClock(InstanceContext &instance, const QString &topic);
    static QString computeWinner(const Game &game);
    // Drops clientId from the spectators; true when it was one.
    static bool removeSpectator(Game &game, quint64 clientId);
    void move(ChannelContext &channel, Game &game, const QJsonObject &args);

    int m_moveTimeoutMs = 0;
    QHash<QString, Game> m_games;
};

} // namespace wsserve
