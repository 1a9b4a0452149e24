// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include "optionsform.h"

#include <QDialog>

class QLabel;
class QPushButton;

namespace wsserve {

// "Properties…" of an instance, running or not: every option with its value, the basic ones first and
// the rest under "Advanced". Numbers are typed, never rewritten: out of range shows the range and blocks
// Apply. Apply goes through ServerController::updateInstanceOptions() (what PATCH /api/instances/ID does):
// limits apply to a running instance at once; for the others the dialog offers a restart.
// Thread: GUI thread.
class InstancePropertiesDialog final : public QDialog
{
    Q_OBJECT

public:
    InstancePropertiesDialog(ServerController &controller, const QString &instanceId, QWidget *parent = nullptr);

    // The editor of an option (QLineEdit or QCheckBox), for tests.
    QWidget *optionEditor(const QString &name) const { return m_form->editor(name); }
    // The line under an option: its range, or what is wrong with the value typed.
    QLabel *optionHint(const QString &name) const { return m_form->hint(name); }
    QPushButton *applyButton() const { return m_apply; }
    QLabel *statusLabel() const { return m_status; }
    // Applies the changed options; false when nothing valid changed or the facade refused (status says why).
    // `askRestart` false: never asks (tests; the status line names the options waiting for a restart).
    bool apply(bool askRestart = true);
    // The options whose editors differ from the instance's current values.
    QVariantMap changes() const { return m_form->changes(m_current); }

private:
    void validate();

    ServerController &m_controller;
    QString m_id;
    QVariantMap m_current;
    OptionsForm *m_form = nullptr;
    QLabel *m_status = nullptr;
    QPushButton *m_apply = nullptr;
};

} // namespace wsserve
