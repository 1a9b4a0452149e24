// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "kickdialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace wsserve {

KickDialog::KickDialog(const QString &who, const QString &address, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Kick %1").arg(who));
    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    m_reason = new QLineEdit(tr("kicked by the host"), this);
    m_reason->setMaxLength(100);
    form->addRow(tr("Reason shown to %1:").arg(who), m_reason);
    layout->addLayout(form);
    auto *blockRow = new QHBoxLayout;
    m_block = new QCheckBox(tr("and block %1 for").arg(address.isEmpty() ? tr("this address") : address), this);
    m_block->setToolTip(tr("Connections from this address to this instance are refused (HTTP 403) until then; a "
                           "restart does not lift the block"));
    m_minutes = new QComboBox(this);
    for (const int minutes : {5, 15, 30, 60, 240, 1440}) {
        m_minutes->addItem(
            minutes < 60 ? tr("%n minute(s)", nullptr, minutes) : tr("%n hour(s)", nullptr, minutes / 60), minutes);
    }
    m_minutes->setCurrentIndex(1);
    m_minutes->setEnabled(false);
    blockRow->addWidget(m_block);
    blockRow->addWidget(m_minutes);
    blockRow->addStretch(1);
    layout->addLayout(blockRow);
    auto *note = new QLabel(tr("Players on the same network share an address: a block refuses all of them."), this);
    note->setWordWrap(true);
    note->setStyleSheet(QStringLiteral("color: #6b6b6b;"));
    layout->addWidget(note);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_kick = buttons->button(QDialogButtonBox::Ok);
    m_kick->setText(tr("Kick"));
    // Wide enough for its longer label from the start, so the dialog does not change shape when ticked.
    m_kick->setMinimumWidth(m_kick->fontMetrics().horizontalAdvance(tr("Kick and block")) + 40);
    connect(m_block, &QCheckBox::toggled, this, [this](bool block) {
        m_minutes->setEnabled(block);
        m_kick->setText(block ? tr("Kick and block") : tr("Kick"));
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

QString KickDialog::reason() const
{
    return m_reason->text().trimmed();
}

int KickDialog::blockMinutes() const
{
    return m_block->isChecked() ? m_minutes->currentData().toInt() : 0;
}

} // namespace wsserve
