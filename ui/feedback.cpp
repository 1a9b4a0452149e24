// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "feedback.h"

#include <QAbstractButton>
#include <QClipboard>
#include <QGuiApplication>
#include <QMainWindow>
#include <QStatusBar>
#include <QTimer>

namespace wsserve {

void showDone(QAbstractButton *button, const QString &done, const QString &message)
{
    // The label to come back to is kept once, so a second click within the delay does not keep "Copied".
    if (!button->property("idleText").isValid()) {
        button->setProperty("idleText", button->text());
    }
    button->setText(done);
    QTimer::singleShot(kFeedbackMs, button, [button] {
        button->setText(button->property("idleText").toString());
        button->setProperty("idleText", QVariant());
    });
    for (QWidget *widget = button; widget; widget = widget->parentWidget()) {
        if (auto *window = qobject_cast<QMainWindow *>(widget)) {
            window->statusBar()->showMessage(message, kStatusMs);
            break;
        }
    }
}

void copyWithFeedback(QAbstractButton *button, const QString &text, const QString &message)
{
    QGuiApplication::clipboard()->setText(text);
    showDone(button, QObject::tr("Copied ✓"), message);
}

} // namespace wsserve
