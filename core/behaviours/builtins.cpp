// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "builtins.h"

#include "chaosbehaviour.h"
#include "chatbehaviour.h"
#include "echobehaviour.h"
#include "tictactoebehaviour.h"

using namespace Qt::StringLiterals;

namespace wsserve {

QList<BehaviourType> builtinBehaviourTypes()
{
    using K = OptionSpec::Kind;
    const OptionSpec presence{QStringLiteral("presence"),
                              K::Bool,
                              true,
                              QStringLiteral("track presence per topic (presence_state / presence_diff)"),
                              0,
                              0};
    return {
        {QStringLiteral("echo"),
         QStringLiteral("Any topic; every pushed event is answered ok with its payload"),
         {},
         [](const InstanceConfig &) {
             return std::make_unique<EchoBehaviour>();
         }},
        {QStringLiteral("chat"),
         QStringLiteral("Any topic; events go to every member (sender included), with presence"),
         {presence},
         [](const InstanceConfig &config) {
             return std::make_unique<ChatBehaviour>(ChatBehaviour::Mode::Chat, config.boolOption(u"presence"_s));
         }},
        {QStringLiteral("relay"),
         QStringLiteral("Any topic; events (binary too) go to every other member, for client-run games"),
         {presence},
         [](const InstanceConfig &config) {
             return std::make_unique<ChatBehaviour>(ChatBehaviour::Mode::Relay, config.boolOption(u"presence"_s));
         }},
        {QStringLiteral("tictactoe"),
         QStringLiteral("Authoritative tic-tac-toe on topics game:<name>: two players, the rest spectate"),
         {},
         [](const InstanceConfig &) {
             return std::make_unique<TicTacToeBehaviour>();
         }},
        {QStringLiteral("chaos"),
         QStringLiteral("Testing aid: events that crash a channel, stall the thread or fail the instance"),
         {},
         [](const InstanceConfig &) {
             return std::make_unique<ChaosBehaviour>();
         }},
    };
}

BehaviourRegistry builtinRegistry()
{
    BehaviourRegistry registry;
    for (BehaviourType &type : builtinBehaviourTypes()) {
        registry.add(std::move(type));
    }
    return registry;
}

} // namespace wsserve
