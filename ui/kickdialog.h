// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QPushButton;

namespace wsserve {

// "Kick…": the reason the client is shown, and "kick and block this address for N minutes" (the address
// is then refused by this instance, HTTP 403, until the block expires). Thread: GUI thread.
class KickDialog final : public QDialog
{
    Q_OBJECT

public:
    KickDialog(const QString &who, const QString &address, QWidget *parent = nullptr);

    QLineEdit *reasonEdit() const { return m_reason; }
    QCheckBox *blockBox() const { return m_block; }
    QComboBox *minutesBox() const { return m_minutes; }
    QPushButton *kickButton() const { return m_kick; }
    QString reason() const;
    // 0 when the address is not to be blocked.
    int blockMinutes() const;

private:
    QLineEdit *m_reason = nullptr;
    QCheckBox *m_block = nullptr;
    QComboBox *m_minutes = nullptr;
    QPushButton *m_kick = nullptr;
};

} // namespace wsserve
