// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instancepropertiesdialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace wsserve {

InstancePropertiesDialog::InstancePropertiesDialog(ServerController &controller, const QString &instanceId,
                                                   QWidget *parent)
    : QDialog(parent)
    , m_controller(controller)
    , m_id(instanceId)
{
    const InstanceInfo info = m_controller.instance(instanceId);
    m_current = info.config.redactedOptions();
    setWindowTitle(tr("Properties of %1").arg(instanceId));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("<b>%1</b> — type <b>%2</b>, %3, clients connected: %4.<br>Options marked ⚡ "
                                "apply at once to a running instance; the others after a restart.")
                                 .arg(instanceId.toHtmlEscaped(), info.config.type, instanceStateName(info.state))
                                 .arg(info.stats.clients),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    m_form = new OptionsForm(this);
    m_form->setOptions(m_controller.registry().optionSpecs(info.config.type), m_current, true);
    connect(m_form, &OptionsForm::edited, this, &InstancePropertiesDialog::validate);
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(m_form);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setFrameShape(QFrame::NoFrame);
    layout->addWidget(scroll, 1);

    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Apply | QDialogButtonBox::Close, this);
    m_apply = buttons->button(QDialogButtonBox::Apply);
    connect(m_apply, &QPushButton::clicked, this, [this] { apply(true); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    validate();
    resize(560, 640);
}

void InstancePropertiesDialog::validate()
{
    m_apply->setEnabled(m_form->problem().isEmpty() && !changes().isEmpty());
}

bool InstancePropertiesDialog::apply(bool askRestart)
{
    const QVariantMap changed = changes();
    if (changed.isEmpty()) {
        m_status->setText(tr("Nothing changed."));
        return false;
    }
    const OptionsUpdate update = m_controller.updateInstanceOptions(m_id, changed);
    if (!update.isOk()) {
        m_status->setStyleSheet(u"color: #c0392b;"_s);
        m_status->setText(update.field.isEmpty()
                              ? update.result.message
                              : tr("%1: %2").arg(OptionsForm::label(update.field), update.result.message));
        if (QWidget *editor = m_form->editor(update.field)) {
            editor->setFocus();
        }
        return false;
    }
    m_current = m_controller.instance(m_id).config.redactedOptions();
    const InstanceInfo info = m_controller.instance(m_id);
    const bool running = info.state == InstanceState::Running;
    QStringList lines;
    if (!update.appliedLive.isEmpty()) {
        lines.append(running ? tr("Applied now: %1.").arg(update.appliedLive.join(u", "))
                             : tr("Saved: %1.").arg(update.appliedLive.join(u", ")));
    }
    if (!update.needsRestart.isEmpty()) {
        lines.append(running ? tr("After a restart: %1.").arg(update.needsRestart.join(u", "))
                             : tr("Saved: %1 (used when it starts).").arg(update.needsRestart.join(u", ")));
    }
    m_status->setStyleSheet(u"color: #2e7d32;"_s);
    m_status->setText(lines.join(u' '));
    validate();
    if (askRestart && running && !update.needsRestart.isEmpty()) {
        const auto answer = QMessageBox::question(
            this, tr("Restart %1?").arg(m_id),
            tr("%1 take effect when %2 restarts. Restart now? Connected clients (%3) are disconnected with close "
               "code 1012 and can reconnect at once.")
                .arg(update.needsRestart.join(u", "), m_id)
                .arg(info.stats.clients));
        if (answer == QMessageBox::Yes) {
            m_controller.restartInstance(m_id);
        }
    }
    return true;
}

} // namespace wsserve
