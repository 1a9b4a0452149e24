// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QHash>
#include <QWidget>

class QFormLayout;
class QGroupBox;
class QLabel;
class QToolButton;

namespace wsserve {

// The editors of an instance's options, shared by "New instance" and "Properties…" so both behave the same:
// the basic options first and the rest under "Advanced"; numbers are typed in line edits with their range
// under them (`1 – 1 000 000`), and a value out of range is shown as such (the range named), never
// rewritten the way a QSpinBox clamps. Thread: GUI thread.
class OptionsForm final : public QWidget
{
    Q_OBJECT

public:
    explicit OptionsForm(QWidget *parent = nullptr);

    // Replaces the editors: one per spec, showing `values` (the spec's default where a value is missing).
    // `markLive`: options that apply to a running instance at once get a ⚡.
    void setOptions(const QList<OptionSpec> &specs, const QVariantMap &values, bool markLive);

    // The editor of an option (QLineEdit or QCheckBox); the line under it (its range, or what is wrong).
    QWidget *editor(const QString &name) const { return m_editors.value(name); }
    QLabel *hint(const QString &name) const { return m_hints.value(name); }
    // What is wrong with the values typed ("Max clients: -5 is out of range (allowed: 1 – 1 000 000)"),
    // empty when every number is in range; the editor at fault gets the focus when `focus` is set.
    QString problem(bool focus = false) const;
    // Every option as entered (numbers as whole numbers once valid), for creating an instance.
    QVariantMap values() const;
    // The options whose editors differ from `current` (numbers as typed, for the facade to check).
    QVariantMap changes(const QVariantMap &current) const;

    // "Max clients" for max_clients.
    static QString label(const QString &name);

Q_SIGNALS:
    // A value was edited; hints are up to date.
    void edited();

private:
    void validate();

    QList<OptionSpec> m_specs;
    QGroupBox *m_basicBox = nullptr;
    QFormLayout *m_basic = nullptr;
    QToolButton *m_advancedToggle = nullptr;
    QGroupBox *m_advancedBox = nullptr;
    QFormLayout *m_advanced = nullptr;
    QHash<QString, QWidget *> m_editors;
    QHash<QString, QLabel *> m_hints;
};

// "1 000 000": how ranges and counts are shown.
QString groupedNumber(qint64 value);

} // namespace wsserve
