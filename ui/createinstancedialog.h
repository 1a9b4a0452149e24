// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QDialog>
#include <QHash>

class QComboBox;
class QDialogButtonBox;
class QFormLayout;
class QLabel;
class QLineEdit;

namespace wsserve {

// "New instance": an id checked as you type (the reason shown when invalid or taken), the type with a
// line about each, and every option of that type with its default filled in. Accepting creates and
// starts the instance through the facade; errors stay in the dialog. Thread: GUI thread.
class CreateInstanceDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit CreateInstanceDialog(ServerController &controller, QWidget *parent = nullptr);

    QLineEdit *idEdit() const { return m_id; }
    QComboBox *typeBox() const { return m_type; }
    QLabel *errorLabel() const { return m_error; }
    // The editor widget of an option (QSpinBox, QCheckBox or QLineEdit), for tests.
    QWidget *optionEditor(const QString &name) const { return m_editors.value(name); }
    QString createdId() const { return m_createdId; }

    void accept() override;

private:
    void validateId();
    void rebuildOptions();
    QVariantMap chosenOptions() const;

    ServerController &m_controller;
    QLineEdit *m_id = nullptr;
    QLabel *m_idHint = nullptr;
    QComboBox *m_type = nullptr;
    QLabel *m_typeDescription = nullptr;
    QFormLayout *m_options = nullptr;
    QLabel *m_error = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QHash<QString, QWidget *> m_editors;
    QString m_createdId;
};

} // namespace wsserve
