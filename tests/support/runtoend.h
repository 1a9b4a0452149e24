#pragma once

// Runs the wsserve binary to its end (20 s at most) and keeps its exit code and output: for start-up
// errors, which print one line and exit.

#include <QProcess>
#include <QString>
#include <QStringList>

namespace wsserve::test {

struct RunResult {
    int exitCode = -1; // -1: crashed or did not finish
    QString out;
    QString err;
};

inline RunResult runToEnd(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral(WSSERVE_BINARY), arguments);
    if (!process.waitForFinished(20000)) {
        process.kill();
        process.waitForFinished();
        return {};
    }
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            QString::fromUtf8(process.readAllStandardOutput()), QString::fromUtf8(process.readAllStandardError())};
}

} // namespace wsserve::test
