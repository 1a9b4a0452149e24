// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "builtins.h"

#include "chaosbehaviour.h"
#include "chatbehaviour.h"
#include "echobehaviour.h"
#include "realtimebehaviour.h"
#include "tictactoebehaviour.h"

using namespace Qt::StringLiterals;

namespace wsserve {

QList<BehaviourType> builtinBehaviourTypes()
{
    using K = OptionSpec::Kind;
    const OptionSpec presence{.name = u"presence"_s,
                              .kind = K::Bool,
                              .defaultValue = true,
                              .description = u"track presence per topic (presence_state / presence_diff)"_s};
    QList<BehaviourType> types{
        {.name = u"echo"_s,
         .description = u"Any topic; every pushed event is answered ok with its payload"_s,
         .options = {},
         .create =
             [](const InstanceConfig &) {
                 return std::make_unique<EchoBehaviour>();
             }},
        {.name = u"chat"_s,
         .description = u"Any topic; events go to every member (sender included), with presence"_s,
         .options = {presence},
         .create =
             [](const InstanceConfig &config) {
                 return std::make_unique<ChatBehaviour>(ChatBehaviour::Mode::Chat, config.boolOption(u"presence"_s));
             }},
        {.name = u"relay"_s,
         .description = u"Any topic; events (binary too) go to every other member, for client-run games"_s,
         .options = {presence},
         .create =
             [](const InstanceConfig &config) {
                 return std::make_unique<ChatBehaviour>(ChatBehaviour::Mode::Relay, config.boolOption(u"presence"_s));
             }},
        {.name = u"tictactoe"_s,
         .description = u"Authoritative tic-tac-toe on topics game:<name>: two players, the rest spectate"_s,
         .options = {{.name = u"move_timeout_ms"_s,
                      .kind = K::Int,
                      .defaultValue = 0,
                      .description = u"time for each move in ms; when it runs out the other player wins (0 = off)"_s,
                      .minimum = 0,
                      .maximum = 3600 * 1000}},
         .create =
             [](const InstanceConfig &config) {
                 return std::make_unique<TicTacToeBehaviour>(static_cast<int>(config.intOption(u"move_timeout_ms"_s)));
             }},
        {.name = u"chaos"_s,
         .description = u"Testing aid: events that crash a channel, stall the thread or fail the instance"_s,
         .options = {},
         .create =
             [](const InstanceConfig &) {
                 return std::make_unique<ChaosBehaviour>();
             }},
        {.name = u"realtime"_s,
         .description = u"Supabase Realtime broadcast and presence on realtime:<name>, for @supabase/realtime-js"_s,
         .options = {},
         .create =
             [](const InstanceConfig &) {
                 return std::make_unique<RealtimeBehaviour>();
             }},
    };
    // Their whole state is what their broadcasts and presence carry: one id on several nodes is one room.
    for (BehaviourType &type : types) {
        type.clusterSafe = type.name == u"echo" || type.name == u"chat" || type.name == u"relay";
    }
    return types;
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
