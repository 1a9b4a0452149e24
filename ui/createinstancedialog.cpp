// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "createinstancedialog.h"

#include "optionsform.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
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

    m_options = new OptionsForm(this);
    connect(m_options, &OptionsForm::edited, this, &CreateInstanceDialog::validate);
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(m_options);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
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
    connect(m_id, &QLineEdit::textChanged, this, &CreateInstanceDialog::validate);
    connect(m_type, &QComboBox::currentIndexChanged, this, &CreateInstanceDialog::rebuildOptions);
    rebuildOptions();
    resize(520, 620);
}

QWidget *CreateInstanceDialog::optionEditor(const QString &name) const
{
    return m_options->editor(name);
}

QLabel *CreateInstanceDialog::optionHint(const QString &name) const
{
    return m_options->hint(name);
}

void CreateInstanceDialog::validate()
{
    const QString id = m_id->text();
    QString problem = id.isEmpty() ? tr("Pick an id: clients connect to /socket/<id>.") : validateInstanceId(id);
    if (problem.isEmpty() && m_controller.instanceIds().contains(id)) {
        problem = tr("'%1' is already taken.").arg(id);
    }
    m_idHint->setText(problem.isEmpty() ? tr("Clients will connect to ws://HOST:PORT/socket/%1").arg(id) : problem);
    m_idHint->setStyleSheet(problem.isEmpty() || id.isEmpty() ? u"color: palette(mid);"_s : u"color: #c62828;"_s);
    const BehaviourType *type = m_controller.registry().find(m_type->currentData().toString());
    const QString optionProblem = m_options->problem();
    m_error->setText(optionProblem);
    m_error->setVisible(!optionProblem.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)
        ->setEnabled(problem.isEmpty() && type && type->create && optionProblem.isEmpty());
}

void CreateInstanceDialog::rebuildOptions()
{
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
    m_options->setOptions(m_controller.registry().optionSpecs(type), {}, false);
    validate(); // the button also depends on the type loading
}

void CreateInstanceDialog::accept()
{
    const QString id = m_id->text();
    // Out-of-range input is refused with its range, never clamped into a different value.
    if (const QString problem = m_options->problem(true); !problem.isEmpty()) {
        m_error->setText(problem);
        m_error->show();
        return;
    }
    if (const CommandResult result =
            m_controller.createInstance(id, m_type->currentData().toString(), m_options->values(), true);
        !result) {
        m_error->setText(result.message);
        m_error->show();
        return;
    }
    m_createdId = id;
    QDialog::accept();
}

} // namespace wsserve
