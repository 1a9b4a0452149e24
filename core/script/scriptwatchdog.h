// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QtGlobal>

class QJSEngine;

namespace wsserve::script {

// Interrupts script calls that run too long. One process-wide thread checks the armed engines every
// 20 ms and calls QJSEngine::setInterrupted(true) (documented as thread-safe) on those past their
// deadline; the engine's thread disarms after the call and gets the interrupt state cleared.
// Thread: arm/disarm from the engine's thread; the checks run in the watchdog's own thread.
class ScriptWatchdog
{
public:
    // Registers an engine for the lifetime of the returned handle.
    class Registration
    {
    public:
        explicit Registration(QJSEngine *engine);
        ~Registration();
        Registration(const Registration &) = delete;
        Registration &operator=(const Registration &) = delete;

        // Starts the clock for one call (nested calls keep the outer deadline).
        void arm(int timeoutMs);
        // Stops it; true when the call was interrupted (the engine accepts calls again).
        bool disarm();

    private:
        friend class ScriptWatchdog;
        static void check(); // the watchdog thread's pass over the armed engines
        QJSEngine *m_engine;
        int m_depth = 0;
        qint64 m_deadlineNs = 0; // guarded by the watchdog's mutex
        bool m_fired = false;    // guarded by the watchdog's mutex
    };
};

} // namespace wsserve::script
