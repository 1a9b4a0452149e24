// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QString>

namespace wsserve {

// What a facade (or supervisor) command did: nothing wrong, or the kind of refusal and a sentence for a
// person. Front ends show `message`; the admin API maps `error` to its HTTP status. Thread: a value.
struct CommandResult {
    enum class Error {
        None = 0,
        NotFound,        // no such instance (or client)
        IdTaken,         // create: the id is in use
        InvalidId,       // create: the id breaks the id rules
        UnknownType,     // create: no such instance type
        InvalidOption,   // create: an option is unknown or out of range
        WrongState,      // the instance's state does not allow the command (e.g. start while Running)
        NotRunning,      // the command needs a Running instance
        NotJwtSecret,    // player token: the instance does not use auth=jwt with jwt_secret
        InvalidArgument, // player token: a request field is missing or out of range (the result names it)
    };

    Error error = Error::None;
    QString message; // empty when error is None, unless the command says what it did (a kick's block)

    static CommandResult ok() { return {}; }
    static CommandResult fail(Error error, QString message) { return CommandResult{error, std::move(message)}; }

    bool isOk() const { return error == Error::None; }
    explicit operator bool() const { return isOk(); }
};

} // namespace wsserve
