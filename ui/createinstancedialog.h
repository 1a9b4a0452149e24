// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace wsserve {

// "New instance": an id checked as you type (the reason shown when invalid or taken), the type with a
// line about each, and every option of that type with its default filled in, in the same OptionsForm as
// "Properties…" (ranges shown, out-of-range numbers refused with the range, never rewritten). Accepting
// creates and starts the instance through the facade; errors stay in the dialog. Thread: GUI thread.
class CreateInstanceDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit CreateInstanceDialog(ServerController &controller, QWidget *parent = nullptr);

    QLineEdit *idEdit() const { return m_id; }
    QComboBox *typeBox() const { return m_type; }
    QLabel *errorLabel() const { return m_error; }
    // The editor of an option (QLineEdit or QCheckBox) and the line under it, for tests.
    QWidget *optionEditor(const QString &name) const;
    QLabel *optionHint(const QString &name) const;
    QString createdId() const { return m_createdId; }

    void accept() override;

private:
    // Enables "Create and start" when the id, the type and every option are fine.
    void validate();
    void rebuildOptions();

    ServerController &m_controller;
    QLineEdit *m_id = nullptr;
    QLabel *m_idHint = nullptr;
    QComboBox *m_type = nullptr;
    QLabel *m_typeDescription = nullptr;
    class OptionsForm *m_options = nullptr;
    QLabel *m_error = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QString m_createdId;
};

} // namespace wsserve
