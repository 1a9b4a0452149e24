// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "tictactoebehaviour.h"

#include <QJsonArray>

namespace wsserve {

namespace {
const QString kRole = QStringLiteral("role");
const QString kState = QStringLiteral("state");

QString storageKey(const QString &topic)
{
    return QStringLiteral("tictactoe/") + topic;
}

} // namespace

bool TicTacToeBehaviour::matchesTopic(const QString &topic) const
{
    return topic.startsWith(u"game:") && topic.size() > 5;
}

TicTacToeBehaviour::TicTacToeBehaviour(int moveTimeoutMs)
    : m_moveTimeoutMs(moveTimeoutMs)
{}

QJsonObject TicTacToeBehaviour::stateOf(const Game &game) const
{
    QJsonArray board;
    for (const QChar cell : game.cells) {
        board.append(cell.isNull() ? QJsonValue(QJsonValue::Null) : QJsonValue(QString(cell)));
    }
    const auto player = [](quint64 id, const QString &name) {
        return id == 0 ? QJsonValue(QJsonValue::Null)
                       : QJsonValue(QJsonObject{{QStringLiteral("client_id"), QString::number(id)},
                                                {QStringLiteral("name"), name}});
    };
    QJsonArray spectators;
    for (qsizetype i = 0; i < game.spectators.size() && i < kMaxSpectatorNames; ++i) {
        spectators.append(game.spectators.at(i).second);
    }
    return QJsonObject{
        {QStringLiteral("board"), board},
        {QStringLiteral("turn"), game.winner.isEmpty() ? QJsonValue(QString(game.turn)) : QJsonValue::Null},
        {QStringLiteral("winner"), game.winner.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(game.winner)},
        {QStringLiteral("players"), QJsonObject{{QStringLiteral("X"), player(game.playerX, game.nameX)},
                                                {QStringLiteral("O"), player(game.playerO, game.nameO)}}},
        {QStringLiteral("moves"), game.moves},
        {QStringLiteral("move_timeout_ms"), m_moveTimeoutMs},
        {QStringLiteral("timed_out"),
         game.timedOut.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(game.timedOut)},
        {QStringLiteral("spectators"), spectators},
        {QStringLiteral("spectator_count"), static_cast<int>(game.spectators.size())},
    };
}

TicTacToeBehaviour::Game &TicTacToeBehaviour::gameFor(InstanceContext &instance, const QString &topic)
{
    if (const auto running = m_games.find(topic); running != m_games.end()) {
        return *running;
    }
    Game &game = m_games[topic];
    const QJsonObject kept = instance.storage().value(storageKey(topic)).toObject();
    const QString cells = kept.value(QStringLiteral("cells")).toString();
    if (cells.size() != 9) {
        return game; // none kept (or unreadable): a new game
    }
    for (int i = 0; i < 9; ++i) {
        game.cells[i] = cells.at(i) == u'X' || cells.at(i) == u'O' ? cells.at(i) : QChar();
    }
    game.turn = kept.value(QStringLiteral("turn")).toString() == u"O" ? QLatin1Char('O') : QLatin1Char('X');
    game.winner = kept.value(QStringLiteral("winner")).toString();
    game.moves = kept.value(QStringLiteral("moves")).toInt();
    game.timedOut = kept.value(QStringLiteral("timed_out")).toString();
    game.nameX = kept.value(QStringLiteral("name_x")).toString();
    game.nameO = kept.value(QStringLiteral("name_o")).toString();
    return game;
}

void TicTacToeBehaviour::save(InstanceContext &instance, const QString &topic, const Game &game)
{
    QString cells;
    for (const QChar cell : game.cells) {
        cells.append(cell.isNull() ? QLatin1Char('.') : cell);
    }
    instance.storage().setValue(storageKey(topic), QJsonObject{{QStringLiteral("cells"), cells},
                                                               {QStringLiteral("turn"), QString(game.turn)},
                                                               {QStringLiteral("winner"), game.winner},
                                                               {QStringLiteral("moves"), game.moves},
                                                               {QStringLiteral("timed_out"), game.timedOut},
                                                               {QStringLiteral("name_x"), game.nameX},
                                                               {QStringLiteral("name_o"), game.nameO}});
}

void TicTacToeBehaviour::armClock(InstanceContext &instance, const QString &topic, Game &game)
{
    if (game.clock != 0) {
        instance.cancelTimer(game.clock);
        game.clock = 0;
    }
    if (m_moveTimeoutMs > 0 && game.playerX != 0 && game.playerO != 0 && game.winner.isEmpty()) {
        game.clock = instance.after(
            m_moveTimeoutMs, [this, topic](InstanceContext &context) { onClock(context, topic); }, topic);
    }
}

void TicTacToeBehaviour::onClock(InstanceContext &instance, const QString &topic)
{
    const auto it = m_games.find(topic);
    if (it == m_games.end() || !it->winner.isEmpty()) {
        return;
    }
    it->clock = 0;
    it->timedOut = QString(it->turn);
    it->winner = it->turn == QLatin1Char('X') ? QStringLiteral("O") : QStringLiteral("X");
    save(instance, topic, *it);
    instance.broadcast(topic, kState, Payload::fromJson(stateOf(*it)));
}

QString TicTacToeBehaviour::computeWinner(const Game &game)
{
    static constexpr int kLines[8][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {0, 3, 6},
                                         {1, 4, 7}, {2, 5, 8}, {0, 4, 8}, {2, 4, 6}};
    for (const auto &line : kLines) {
        const QChar a = game.cells[line[0]];
        if (!a.isNull() && a == game.cells[line[1]] && a == game.cells[line[2]]) {
            return QString(a);
        }
    }
    return game.moves == 9 ? QStringLiteral("draw") : QString();
}

bool TicTacToeBehaviour::removeSpectator(Game &game, quint64 clientId)
{
    return game.spectators.removeIf([clientId](const auto &spectator) { return spectator.first == clientId; }) > 0;
}

JoinResult TicTacToeBehaviour::join(ChannelContext &channel, const QJsonValue &params)
{
    Game &game = gameFor(channel.instance(), channel.topic());
    removeSpectator(game, channel.clientId()); // a client rejoining is listed once
    QString name = params.toObject().value(QStringLiteral("name")).toString().left(64);
    if (name.isEmpty()) {
        name = QStringLiteral("client-%1").arg(channel.clientId());
    }
    QString role = QStringLiteral("spectator");
    // A seat kept for a name (a game restored after a restart) goes to that name only.
    const bool xFree = game.playerX == 0 && (game.nameX.isEmpty() || game.nameX == name);
    const bool oFree = game.playerO == 0 && (game.nameO.isEmpty() || game.nameO == name);
    if (game.playerX == 0 && !game.nameX.isEmpty() && game.nameX == name) {
        game.playerX = channel.clientId();
        role = QStringLiteral("X");
    } else if (game.playerO == 0 && !game.nameO.isEmpty() && game.nameO == name) {
        game.playerO = channel.clientId();
        role = QStringLiteral("O");
    } else if (xFree || game.playerX == channel.clientId()) {
        game.playerX = channel.clientId();
        game.nameX = name;
        role = QStringLiteral("X");
    } else if (oFree || game.playerO == channel.clientId()) {
        game.playerO = channel.clientId();
        game.nameO = name;
        role = QStringLiteral("O");
    }
    channel.assigns().insert(kRole, role);
    if (role == u"spectator") {
        game.spectators.append({channel.clientId(), name});
    } else {
        save(channel.instance(), channel.topic(), game);
        armClock(channel.instance(), channel.topic(), game);
    }
    channel.broadcast(kState, Payload::fromJson(stateOf(game))); // a new player or spectator: the others see it
    return JoinResult::accept(QJsonObject{{kRole, role}, {kState, stateOf(game)}});
}

void TicTacToeBehaviour::handleIn(ChannelContext &channel, const QString &event, const Payload &payload)
{
    Game &game = gameFor(channel.instance(), channel.topic());
    const QJsonObject args = payload.isBinary ? QJsonObject{} : payload.json.toObject();
    if (event == u"move") {
        move(channel, game, args);
        return;
    }
    if (event == u"reset") {
        const QString role = channel.assigns().value(kRole).toString();
        if (role == u"spectator") {
            channel.replyError(QStringLiteral("spectators cannot reset the game"));
            return;
        }
        if (game.winner.isEmpty() && game.moves > 0) {
            channel.replyError(QStringLiteral("the game is still running"));
            return;
        }
        game.cells = {};
        game.turn = QLatin1Char('X');
        game.winner.clear();
        game.timedOut.clear();
        game.moves = 0;
        save(channel.instance(), channel.topic(), game);
        armClock(channel.instance(), channel.topic(), game);
        channel.replyOk();
        channel.broadcast(kState, Payload::fromJson(stateOf(game)));
        return;
    }
    channel.replyError(QStringLiteral("unknown event '%1' (expected move or reset)").arg(event));
}

void TicTacToeBehaviour::move(ChannelContext &channel, Game &game, const QJsonObject &args)
{
    const QString role = channel.assigns().value(kRole).toString();
    if (role == u"spectator") {
        channel.replyError(QStringLiteral("spectators cannot move"));
        return;
    }
    if (!game.winner.isEmpty()) {
        channel.replyError(QStringLiteral("game over"));
        return;
    }
    if (game.playerX == 0 || game.playerO == 0) {
        channel.replyError(QStringLiteral("waiting for a second player"));
        return;
    }
    if (QString(game.turn) != role) {
        channel.replyError(QStringLiteral("not your turn"));
        return;
    }
    const QJsonValue cellValue = args.value(QStringLiteral("cell"));
    const double cellNumber = cellValue.toDouble(-1);
    if (!cellValue.isDouble() || cellNumber < 0 || cellNumber > 8 || cellNumber != static_cast<int>(cellNumber)) {
        channel.replyError(QStringLiteral("cell must be a whole number from 0 to 8"));
        return;
    }
    const int cell = static_cast<int>(cellNumber);
    if (!game.cells[cell].isNull()) {
        channel.replyError(QStringLiteral("cell %1 is taken").arg(cell));
        return;
    }
    game.cells[cell] = game.turn;
    ++game.moves;
    game.winner = computeWinner(game);
    game.turn = game.turn == QLatin1Char('X') ? QLatin1Char('O') : QLatin1Char('X');
    save(channel.instance(), channel.topic(), game);
    armClock(channel.instance(), channel.topic(), game);
    channel.replyOk(Payload::fromJson(stateOf(game)));
    channel.broadcast(kState, Payload::fromJson(stateOf(game)));
}

void TicTacToeBehaviour::leave(ChannelContext &channel, LeaveReason)
{
    auto it = m_games.find(channel.topic());
    if (it == m_games.end()) {
        return;
    }
    Game &game = *it;
    bool changed = false;
    if (game.playerX == channel.clientId() && channel.assigns().value(kRole).toString() == u"X") {
        game.playerX = 0;
        game.nameX.clear();
        changed = true;
    }
    if (game.playerO == channel.clientId() && channel.assigns().value(kRole).toString() == u"O") {
        game.playerO = 0;
        game.nameO.clear();
        changed = true;
    }
    if (channel.assigns().value(kRole).toString() == u"spectator" && removeSpectator(game, channel.clientId())) {
        channel.broadcastFrom(kState, Payload::fromJson(stateOf(game)));
        return;
    }
    if (changed) {
        save(channel.instance(), channel.topic(), game);
        armClock(channel.instance(), channel.topic(), game); // a seat is free: the clock stops
        channel.broadcastFrom(kState, Payload::fromJson(stateOf(game)));
    }
}

void TicTacToeBehaviour::topicEmpty(InstanceContext &instance, const QString &topic)
{
    m_games.remove(topic);
    instance.storage().remove(storageKey(topic)); // everybody left: the game is over (a restart does not get here)
}

} // namespace wsserve
