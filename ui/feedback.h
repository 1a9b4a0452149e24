// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QString>

class QAbstractButton;

namespace wsserve {

// Feedback for actions whose result is not visible (Copy, Export), one helper for every such button: the
// button reads `done` for kFeedbackMs, and the main window's status bar (found through the button's
// parents, dialogs included) shows `message` for kStatusMs. Thread: GUI thread.
inline constexpr int kFeedbackMs = 2000;
inline constexpr int kStatusMs = 5000;
void showDone(QAbstractButton *button, const QString &done, const QString &message);
// Puts `text` on the clipboard, then showDone(button, "Copied ✓", message).
void copyWithFeedback(QAbstractButton *button, const QString &text, const QString &message);

} // namespace wsserve
