// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "optionsform.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
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

QString rangeOf(const OptionSpec &spec)
{
    return QObject::tr("%1 – %2").arg(groupedNumber(spec.minimum), groupedNumber(spec.maximum));
}

// Empty when `text` is a whole number within the spec's range; otherwise what is wrong, naming the range.
QString numberProblem(const OptionSpec &spec, const QString &text)
{
    bool ok = false;
    const qint64 value = text.trimmed().toLongLong(&ok);
    if (!ok) {
        return QObject::tr("not a whole number; allowed: %1").arg(rangeOf(spec));
    }
    if (value < spec.minimum || value > spec.maximum) {
        return QObject::tr("%1 is out of range (allowed: %2)").arg(groupedNumber(value), rangeOf(spec));
    }
    return {};
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

QString OptionsForm::label(const QString &name)
{
    QString text = name;
    text.replace(u'_', u' ');
    if (!text.isEmpty()) {
        text[0] = text[0].toUpper();
    }
    return text;
}

OptionsForm::OptionsForm(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_basicBox = new QGroupBox(tr("Basic"), this);
    m_basic = new QFormLayout(m_basicBox);
    m_advancedToggle = new QToolButton(this);
    m_advancedToggle->setText(tr("Advanced"));
    m_advancedToggle->setCheckable(true);
    m_advancedToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_advancedToggle->setArrowType(Qt::RightArrow);
    m_advancedBox = new QGroupBox(this);
    m_advanced = new QFormLayout(m_advancedBox);
    m_advancedBox->hide();
    connect(m_advancedToggle, &QToolButton::toggled, this, [this](bool open) {
        m_advancedBox->setVisible(open);
        m_advancedToggle->setArrowType(open ? Qt::DownArrow : Qt::RightArrow);
    });
    layout->addWidget(m_basicBox);
    layout->addWidget(m_advancedToggle);
    layout->addWidget(m_advancedBox);
    layout->addStretch(1);
}

void OptionsForm::setOptions(const QList<OptionSpec> &specs, const QVariantMap &values, bool markLive)
{
    for (QFormLayout *form : {m_basic, m_advanced}) {
        while (form->rowCount() > 0) {
            form->removeRow(0);
        }
    }
    m_editors.clear();
    m_hints.clear();
    m_specs = specs;
    for (const OptionSpec &spec : specs) {
        QWidget *editor = nullptr;
        QString range;
        const QVariant value = values.value(spec.name, spec.defaultValue);
        if (spec.kind == OptionSpec::Kind::Bool) {
            auto *box = new QCheckBox(this);
            box->setChecked(value.toBool());
            connect(box, &QCheckBox::toggled, this, &OptionsForm::validate);
            editor = box;
        } else {
            auto *edit = new QLineEdit(value.toString(), this);
            if (isSecretOption(spec.name)) {
                edit->setEchoMode(QLineEdit::PasswordEchoOnEdit); // a secret is never shown on screen
            }
            if (spec.kind == OptionSpec::Kind::Int) {
                range = rangeOf(spec);
                edit->setPlaceholderText(range);
            }
            connect(edit, &QLineEdit::textChanged, this, &OptionsForm::validate);
            editor = edit;
        }
        editor->setObjectName(spec.name);
        editor->setToolTip(spec.description);
        auto *hint = new QLabel(range, this);
        hint->setProperty("range", range);
        hint->setStyleSheet(u"color: #6b6b6b;"_s);
        hint->setVisible(!range.isEmpty());
        hint->setWordWrap(true);
        auto *cell = new QWidget(this);
        auto *cellLayout = new QVBoxLayout(cell);
        cellLayout->setContentsMargins(0, 0, 0, 0);
        cellLayout->setSpacing(1);
        cellLayout->addWidget(editor);
        cellLayout->addWidget(hint);
        auto *name = new QLabel(label(spec.name) + (markLive && spec.live ? u" ⚡"_s : QString()) + u':', this);
        name->setToolTip(u"%1 — %2"_s.arg(spec.name, spec.description));
        const bool isBasic = kBasic.contains(spec.name) || !isCommon(spec.name);
        (isBasic ? m_basic : m_advanced)->addRow(name, cell);
        m_editors.insert(spec.name, editor);
        m_hints.insert(spec.name, hint);
    }
    m_basicBox->setVisible(m_basic->rowCount() > 0);
    m_advancedToggle->setVisible(m_advanced->rowCount() > 0);
    validate();
}

void OptionsForm::validate()
{
    for (const OptionSpec &spec : std::as_const(m_specs)) {
        if (spec.kind != OptionSpec::Kind::Int) {
            continue;
        }
        auto *edit = qobject_cast<QLineEdit *>(m_editors.value(spec.name));
        QLabel *hint = m_hints.value(spec.name);
        const QString wrong = numberProblem(spec, edit->text());
        hint->setText(wrong.isEmpty() ? hint->property("range").toString() : wrong);
        hint->setStyleSheet(wrong.isEmpty() ? u"color: #6b6b6b;"_s : u"color: #c0392b;"_s);
        edit->setStyleSheet(wrong.isEmpty() ? QString() : u"border: 1px solid #c0392b;"_s);
    }
    emit edited();
}

QString OptionsForm::problem(bool focus) const
{
    for (const OptionSpec &spec : m_specs) {
        if (spec.kind != OptionSpec::Kind::Int) {
            continue;
        }
        auto *edit = qobject_cast<QLineEdit *>(m_editors.value(spec.name));
        if (const QString wrong = numberProblem(spec, edit->text()); !wrong.isEmpty()) {
            if (focus) {
                if (!edit->isVisibleTo(this)) {
                    m_advancedToggle->setChecked(true); // show the advanced option at fault
                }
                edit->setFocus();
            }
            return tr("%1: %2").arg(label(spec.name), wrong);
        }
    }
    return {};
}

QVariantMap OptionsForm::values() const
{
    QVariantMap options;
    for (const OptionSpec &spec : m_specs) {
        QWidget *editor = m_editors.value(spec.name);
        if (const auto *box = qobject_cast<QCheckBox *>(editor)) {
            options.insert(spec.name, box->isChecked());
        } else if (const auto *edit = qobject_cast<QLineEdit *>(editor)) {
            bool ok = false;
            const qint64 number = edit->text().trimmed().toLongLong(&ok);
            options.insert(spec.name,
                           spec.kind == OptionSpec::Kind::Int && ok ? QVariant(number) : QVariant(edit->text()));
        }
    }
    return options;
}

QVariantMap OptionsForm::changes(const QVariantMap &current) const
{
    QVariantMap changed;
    for (const OptionSpec &spec : m_specs) {
        QWidget *editor = m_editors.value(spec.name);
        const QVariant value = current.value(spec.name, spec.defaultValue);
        if (const auto *box = qobject_cast<QCheckBox *>(editor)) {
            if (box->isChecked() != value.toBool()) {
                changed.insert(spec.name, box->isChecked());
            }
        } else if (const auto *edit = qobject_cast<QLineEdit *>(editor)) {
            if (edit->text() != value.toString()) {
                changed.insert(spec.name, spec.kind == OptionSpec::Kind::Int ? QVariant(edit->text().trimmed())
                                                                             : QVariant(edit->text()));
            }
        }
    }
    return changed;
}

} // namespace wsserve
