// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "chaosbehaviour.h"

#include "instance/faultinjection.h"

#include <stdexcept>

namespace wsserve {

JoinResult ChaosBehaviour::join(ChannelContext &, const QJsonValue &params)
{
    if (params.toObject().value(QStringLiteral("crash")).toBool()) {
        throw std::runtime_error("chaos: join crash requested");
    }
    return JoinResult::accept();
}

void ChaosBehaviour::handleIn(ChannelContext &channel, const QString &event, const Payload &payload)
{
    const QJsonObject args = payload.isBinary ? QJsonObject{} : payload.json.toObject();
    if (event == u"crash") {
        throw std::runtime_error("chaos: channel crash requested");
    }
    if (event == u"stall") {
        const int ms = std::clamp(args.value(QStringLiteral("ms")).toInt(1000), 0, 60000);
        channel.replyOk(Payload::fromJson(QJsonObject{{QStringLiteral("stalled_ms"), ms}}));
        if (auto *faults = dynamic_cast<FaultInjection *>(&channel.instance())) {
            faults->stallThread(ms);
        }
        return;
    }
    if (event == u"fail") {
        const QString reason = args.value(QStringLiteral("reason")).toString(QStringLiteral("chaos: fail requested"));
        channel.replyOk();
        if (auto *faults = dynamic_cast<FaultInjection *>(&channel.instance())) {
            faults->failInstance(reason);
        }
        return;
    }
    if (event == u"whoami") {
        // What the server learned at connect time, so clients can check params and the auth token arrive.
        const ConnectInfo &info = channel.connectInfo();
        channel.reply(QStringLiteral("ok"),
                      Payload::fromJson(QJsonObject{{QStringLiteral("client_id"), QString::number(info.clientId)},
                                                    {QStringLiteral("params"), info.params},
                                                    {QStringLiteral("auth_token"), info.authToken},
                                                    {QStringLiteral("claims"), info.claims},
                                                    {QStringLiteral("remote_address"), info.remoteAddress},
                                                    {QStringLiteral("wire_format"), wireFormatName(info.format)}}));
        return;
    }
    if (event == u"stop") {
        channel.replyOk();
        channel.stop();
        return;
    }
    channel.replyOk(payload);
}

} // namespace wsserve
