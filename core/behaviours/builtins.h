// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviourregistry.h"

namespace wsserve {

// The instance types that ship with wsserve: echo, chat, relay, tictactoe, chaos.
QList<BehaviourType> builtinBehaviourTypes();
// A registry holding the built-in types (what ServerController uses unless given another).
BehaviourRegistry builtinRegistry();

} // namespace wsserve
