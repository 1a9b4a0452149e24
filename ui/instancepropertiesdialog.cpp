// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instancepropertiesdialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace wsserve {

namespace {
// What a host changes most; everything else is under "Advanced". Type options (presence, ...) are basic.
const QStringList kBasic{u"max_clients"_s, u"check_origin"_s, u"idle_timeout_ms"_s, u"max_messages_per_second"_s,
                         u"auth"_s};

bool isCommon(const QString &name)
{
    static const QStringList common = [] {
        QStringList names;
        for (const OptionSpec &spec : commonOptionSpecs()) {
            names.append(spec.name);
        }
        return names;
    }();
    return common.contains(name);
}

QString label(const QString &name)
{
    QString text = name;
    text.replace(u'_', u' ');
    text[0] = text[0].toUpper();
    return text;
}
} // namespace

QString groupedNumber(qint64 value)
{
    QString digits = QString::number(value < 0 ? -value : value);
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3) {
        digits.insert(i, QChar(0x00A0)); // "1 000 000", never broken across lines
    }
    return value < 0 ? u"-"_s + digits : digits;
}

InstancePropertiesDialog::InstancePropertiesDialog(ServerController &controller, const QString &instanceId,
                                                   QWidget *parent)
    : QDialog(parent)
    , m_controller(controller)
    , m_id(instanceId)
{
    const InstanceInfo info = m_controller.instance(instanceId);
    m_specs = m_controller.registry().optionSpecs(info.config.type);
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

    auto *body = new QWidget(this);
    auto *bodyLayout = new QVBoxLayout(body);
    auto *basicBox = new QGroupBox(tr("Basic"), body);
    auto *basic = new QFormLayout(basicBox);
    auto *advancedToggle = new QToolButton(body);
    advancedToggle->setText(tr("Advanced"));
    advancedToggle->setCheckable(true);
    advancedToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    advancedToggle->setArrowType(Qt::RightArrow);
    auto *advancedBox = new QGroupBox(body);
    auto *advanced = new QFormLayout(advancedBox);
    advancedBox->hide();
    connect(advancedToggle, &QToolButton::toggled, this, [advancedToggle, advancedBox](bool open) {
        advancedBox->setVisible(open);
        advancedToggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
    });
    bodyLayout->addWidget(basicBox);
    bodyLayout->addWidget(advancedToggle);
    bodyLayout->addWidget(advancedBox);
    bodyLayout->addStretch(1);
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(body);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setFrameShape(QFrame::NoFrame);
    layout->addWidget(scroll, 1);

    for (const OptionSpec &spec : std::as_const(m_specs)) {
        QWidget *editor = nullptr;
        QString hint;
        const QVariant value = m_current.value(spec.name, spec.defaultValue);
        if (spec.kind == OptionSpec::Kind::Bool) {
            auto *box = new QCheckBox(body);
            box->setChecked(value.toBool());
            connect(box, &QCheckBox::toggled, this, &InstancePropertiesDialog::validate);
            editor = box;
        } else {
            auto *edit = new QLineEdit(value.toString(), body);
            if (isSecretOption(spec.name)) {
                edit->setEchoMode(QLineEdit::Password);
            }
            if (spec.kind == OptionSpec::Kind::Int) {
                hint = tr("%1 – %2").arg(groupedNumber(spec.minimum), groupedNumber(spec.maximum));
                edit->setPlaceholderText(hint);
            }
            connect(edit, &QLineEdit::textChanged, this, &InstancePropertiesDialog::validate);
            editor = edit;
        }
        editor->setObjectName(spec.name);
        editor->setToolTip(spec.description);
        auto *hintLabel = new QLabel(hint, body);
        hintLabel->setProperty("range", hint);
        hintLabel->setStyleSheet(u"color: #6b6b6b;"_s);
        hintLabel->setVisible(!hint.isEmpty());
        hintLabel->setWordWrap(true);
        auto *cell = new QWidget(body);
        auto *cellLayout = new QVBoxLayout(cell);
        cellLayout->setContentsMargins(0, 0, 0, 0);
        cellLayout->setSpacing(1);
        cellLayout->addWidget(editor);
        cellLayout->addWidget(hintLabel);
        auto *name = new QLabel(
            label(spec.name) + (ServerController::isLiveOption(spec.name) ? u" ⚡"_s : QString()) + u':', body);
        name->setToolTip(u"%1 — %2"_s.arg(spec.name, spec.description));
        const bool isBasic = kBasic.contains(spec.name) || !isCommon(spec.name);
        (isBasic ? basic : advanced)->addRow(name, cell);
        m_editors.insert(spec.name, editor);
        m_hints.insert(spec.name, hintLabel);
    }

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

QVariantMap InstancePropertiesDialog::changes() const
{
    QVariantMap changed;
    for (const OptionSpec &spec : m_specs) {
        QWidget *editor = m_editors.value(spec.name);
        const QVariant current = m_current.value(spec.name, spec.defaultValue);
        if (const auto *box = qobject_cast<QCheckBox *>(editor)) {
            if (box->isChecked() != current.toBool()) {
                changed.insert(spec.name, box->isChecked());
            }
        } else if (const auto *edit = qobject_cast<QLineEdit *>(editor)) {
            if (edit->text() != current.toString()) {
                changed.insert(spec.name, spec.kind == OptionSpec::Kind::Int ? QVariant(edit->text().trimmed())
                                                                             : QVariant(edit->text()));
            }
        }
    }
    return changed;
}

void InstancePropertiesDialog::validate()
{
    bool valid = true;
    for (const OptionSpec &spec : std::as_const(m_specs)) {
        if (spec.kind != OptionSpec::Kind::Int) {
            continue;
        }
        auto *edit = qobject_cast<QLineEdit *>(m_editors.value(spec.name));
        QLabel *hint = m_hints.value(spec.name);
        bool ok = false;
        const qint64 value = edit->text().trimmed().toLongLong(&ok);
        const QString range = hint->property("range").toString();
        if (!ok) {
            hint->setText(tr("not a whole number; allowed: %1").arg(range));
        } else if (value < spec.minimum || value > spec.maximum) {
            hint->setText(tr("%1 is out of range (allowed: %2)").arg(groupedNumber(value), range));
            ok = false;
        } else {
            hint->setText(range);
        }
        hint->setStyleSheet(ok ? u"color: #6b6b6b;"_s : u"color: #c0392b;"_s);
        edit->setStyleSheet(ok ? QString() : u"border: 1px solid #c0392b;"_s);
        valid = valid && ok;
    }
    m_apply->setEnabled(valid && !changes().isEmpty());
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
        m_status->setText(update.field.isEmpty() ? update.result.message
                                                 : tr("%1: %2").arg(label(update.field), update.result.message));
        if (QWidget *editor = m_editors.value(update.field)) {
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
