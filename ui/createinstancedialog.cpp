// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "createinstancedialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace wsserve {

CreateInstanceDialog::CreateInstanceDialog(ServerController &controller, QWidget *parent)
    : QDialog(parent)
    , m_controller(controller)
{
    setWindowTitle(tr("New instance"));
    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    m_id = new QLineEdit(this);
    m_id->setPlaceholderText(tr("e.g. lobby, quiz-1, match_42"));
    m_idHint = new QLabel(this);
    m_idHint->setWordWrap(true);
    form->addRow(tr("Id:"), m_id);
    form->addRow(QString(), m_idHint);
    m_type = new QComboBox(this);
    for (const BehaviourType &type : m_controller.registry().types()) {
        // Script types say so; one whose file never loaded is listed with its error, not creatable.
        QString label = type.name;
        if (type.source == BehaviourType::Source::Script) {
            label += type.create ? tr("  (JavaScript)") : tr("  (does not load)");
        }
        m_type->addItem(label, type.name);
        m_type->setItemData(m_type->count() - 1, type.error.isEmpty() ? type.description : type.error, Qt::ToolTipRole);
    }
    m_type->setCurrentIndex(std::max(0, m_type->findData(u"chat"_s))); // what most game nights need
    form->addRow(tr("Type:"), m_type);
    m_typeDescription = new QLabel(this);
    m_typeDescription->setWordWrap(true);
    form->addRow(QString(), m_typeDescription);
    layout->addLayout(form);

    auto *optionsBox = new QGroupBox(tr("Options"), this);
    m_options = new QFormLayout(optionsBox);
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(optionsBox);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    layout->addWidget(scroll, 1);

    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(u"color: #c62828;"_s);
    m_error->hide();
    layout->addWidget(m_error);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Create and start"));
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &CreateInstanceDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_id, &QLineEdit::textChanged, this, &CreateInstanceDialog::validateId);
    connect(m_type, &QComboBox::currentIndexChanged, this, &CreateInstanceDialog::rebuildOptions);
    rebuildOptions();
    validateId();
    resize(520, 620);
}

void CreateInstanceDialog::validateId()
{
    const QString id = m_id->text();
    QString problem = id.isEmpty() ? tr("Pick an id: clients connect to /socket/<id>.") : validateInstanceId(id);
    if (problem.isEmpty() && m_controller.instanceIds().contains(id)) {
        problem = tr("'%1' is already taken.").arg(id);
    }
    m_idHint->setText(problem.isEmpty() ? tr("Clients will connect to ws://HOST:PORT/socket/%1").arg(id) : problem);
    m_idHint->setStyleSheet(problem.isEmpty() || id.isEmpty() ? u"color: palette(mid);"_s : u"color: #c62828;"_s);
    const BehaviourType *type = m_controller.registry().find(m_type->currentData().toString());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty() && type && type->create);
}

void CreateInstanceDialog::rebuildOptions()
{
    while (m_options->rowCount() > 0) {
        m_options->removeRow(0);
    }
    m_editors.clear();
    const QString type = m_type->currentData().toString();
    if (const BehaviourType *behaviour = m_controller.registry().find(type)) {
        QString text = behaviour->description;
        if (!behaviour->create) {
            text = tr("This type's file does not load:\n%1").arg(behaviour->error);
        } else if (!behaviour->error.isEmpty()) {
            text += u'\n' + tr("The file on disk does not load (%1); new instances use the last version that did.")
                                .arg(behaviour->error);
        }
        m_typeDescription->setText(text);
        m_typeDescription->setStyleSheet(behaviour->error.isEmpty() ? QString() : u"color: #c62828;"_s);
    }
    validateId(); // the button also depends on the type loading
    for (const OptionSpec &spec : m_controller.registry().optionSpecs(type)) {
        QWidget *editor = nullptr;
        switch (spec.kind) {
        case OptionSpec::Kind::Bool: {
            auto *box = new QCheckBox(this);
            box->setChecked(spec.defaultValue.toBool());
            editor = box;
            break;
        }
        case OptionSpec::Kind::Int: {
            auto *spin = new QSpinBox(this);
            spin->setRange(static_cast<int>(std::max<qint64>(spec.minimum, INT_MIN)),
                           static_cast<int>(std::min<qint64>(spec.maximum, INT_MAX)));
            spin->setValue(spec.defaultValue.toInt());
            spin->setGroupSeparatorShown(true);
            editor = spin;
            break;
        }
        case OptionSpec::Kind::String:
        case OptionSpec::Kind::Invalid: {
            auto *edit = new QLineEdit(spec.defaultValue.toString(), this);
            if (isSecretOption(spec.name)) {
                edit->setEchoMode(QLineEdit::PasswordEchoOnEdit); // a secret is never shown on screen
            }
            editor = edit;
            break;
        }
        }
        editor->setToolTip(spec.description);
        editor->setObjectName(spec.name);
        auto *label = new QLabel(spec.name + u':', this);
        label->setToolTip(spec.description);
        m_options->addRow(label, editor);
        m_editors.insert(spec.name, editor);
    }
}

QVariantMap CreateInstanceDialog::chosenOptions() const
{
    QVariantMap options;
    for (auto it = m_editors.cbegin(); it != m_editors.cend(); ++it) {
        if (const auto *box = qobject_cast<QCheckBox *>(it.value())) {
            options.insert(it.key(), box->isChecked());
        } else if (const auto *spin = qobject_cast<QSpinBox *>(it.value())) {
            options.insert(it.key(), spin->value());
        } else if (const auto *edit = qobject_cast<QLineEdit *>(it.value())) {
            options.insert(it.key(), edit->text());
        }
    }
    return options;
}

void CreateInstanceDialog::accept()
{
    const QString id = m_id->text();
    if (const CommandResult result =
            m_controller.createInstance(id, m_type->currentData().toString(), chosenOptions(), true);
        !result) {
        m_error->setText(result.message);
        m_error->show();
        return;
    }
    m_createdId = id;
    QDialog::accept();
}

} // namespace wsserve
