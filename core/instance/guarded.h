// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QString>

#include <exception>

namespace wsserve {

// Runs a behaviour callback; returns false (and the exception text) when it threw. Every call into a
// type goes through it: a throwing callback crashes a channel, never the instance thread.
template <typename F> bool guarded(F &&callback, QString *what)
{
    try {
        callback();
        return true;
    } catch (const std::exception &error) {
        *what = QString::fromLocal8Bit(error.what());
    } catch (...) {
        *what = QStringLiteral("unknown exception");
    }
    return false;
}

} // namespace wsserve
