// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace wsserve {

// "Player token…" for an instance with auth=jwt and jwt_secret: name, subject (the name when left
// empty), topic patterns and a lifetime in hours; "Create token" signs one through the facade and shows
// the token, a ready URL and a JS snippet, each with a Copy button. The token is never logged; the
// instance's secret is never shown. Thread: GUI thread.
class PlayerTokenDialog final : public QDialog
{
    Q_OBJECT

public:
    // `socketBase` is ws://HOST:PORT/socket/ID (the URL a LAN client uses, without /websocket).
    PlayerTokenDialog(ServerController &controller, const QString &instanceId, const QString &socketBase,
                      QWidget *parent = nullptr);

    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *subEdit() const { return m_sub; }
    QLineEdit *topicsEdit() const { return m_topics; }
    QSpinBox *lifetimeBox() const { return m_hours; }
    QPushButton *createButton() const { return m_create; }
    QLabel *errorLabel() const { return m_error; }

    // Empty until "Create token" succeeded.
    QString token() const { return m_token; }
    QString url() const;
    QString snippet() const;

    // Signs a token from the fields; false (the reason in errorLabel()) when refused.
    bool createToken();

private:
    ServerController &m_controller;
    QString m_instanceId;
    QString m_socketBase;
    QString m_token;
    QLineEdit *m_name = nullptr;
    QLineEdit *m_sub = nullptr;
    QLineEdit *m_topics = nullptr;
    QSpinBox *m_hours = nullptr;
    QPushButton *m_create = nullptr;
    QLabel *m_error = nullptr;
    QLabel *m_expires = nullptr;
    QLineEdit *m_tokenField = nullptr;
    QLineEdit *m_urlField = nullptr;
    QPlainTextEdit *m_snippetField = nullptr;
    QWidget *m_result = nullptr;
};

} // namespace wsserve
