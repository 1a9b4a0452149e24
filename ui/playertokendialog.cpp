// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "playertokendialog.h"

#include "feedback.h"

#include <QApplication>
#include <QClipboard>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <functional>

using namespace Qt::StringLiterals;

namespace wsserve {

namespace {

// A read-only field and its Copy button on one row.
QHBoxLayout *copyRow(QWidget *field, QWidget *parent, const std::function<QString()> &text, const QString &what)
{
    auto *row = new QHBoxLayout;
    auto *copy = new QPushButton(QObject::tr("Copy"), parent);
    QObject::connect(copy, &QPushButton::clicked, parent,
                     [copy, text, what] { copyWithFeedback(copy, text(), QObject::tr("Copied %1").arg(what)); });
    row->addWidget(field, 1);
    row->addWidget(copy, 0, Qt::AlignTop);
    return row;
}

} // namespace

PlayerTokenDialog::PlayerTokenDialog(ServerController &controller, const QString &instanceId, const QString &socketBase,
                                     QWidget *parent)
    : QDialog(parent)
    , m_controller(controller)
    , m_instanceId(instanceId)
    , m_socketBase(socketBase)
{
    setWindowTitle(tr("Player token for %1").arg(instanceId));
    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    m_name = new QLineEdit(this);
    m_name->setMaxLength(static_cast<int>(PlayerToken::kMaxNameLength));
    m_name->setPlaceholderText(tr("alice (the name chat and relay show)"));
    m_sub = new QLineEdit(this);
    m_sub->setMaxLength(static_cast<int>(PlayerToken::kMaxSubjectLength));
    m_sub->setPlaceholderText(tr("the name"));
    m_topics = new QLineEdit(this);
    m_topics->setPlaceholderText(tr("any topic; or e.g. room:*, game:42"));
    m_hours = new QSpinBox(this);
    m_hours->setRange(1, static_cast<int>(PlayerToken::kMaxTtlSeconds / 3600));
    m_hours->setValue(4);
    m_hours->setSuffix(tr(" h"));
    form->addRow(tr("Name:"), m_name);
    form->addRow(tr("Subject (sub):"), m_sub);
    form->addRow(tr("Topics:"), m_topics);
    form->addRow(tr("Lifetime:"), m_hours);
    layout->addLayout(form);
    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(u"color: #b00020"_s);
    m_error->hide();
    layout->addWidget(m_error);
    m_create = new QPushButton(tr("Create token"), this);
    m_create->setDefault(true);
    connect(m_create, &QPushButton::clicked, this, [this] { (void)createToken(); });
    layout->addWidget(m_create, 0, Qt::AlignRight);

    m_result = new QWidget(this);
    auto *result = new QVBoxLayout(m_result);
    result->setContentsMargins(0, 0, 0, 0);
    m_expires = new QLabel(m_result);
    result->addWidget(m_expires);
    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_tokenField = new QLineEdit(m_result);
    m_tokenField->setReadOnly(true);
    m_tokenField->setFont(fixed);
    result->addWidget(new QLabel(tr("Token:"), m_result));
    result->addLayout(copyRow(
        m_tokenField, m_result, [this] { return m_token; }, tr("player token")));
    m_urlField = new QLineEdit(m_result);
    m_urlField->setReadOnly(true);
    m_urlField->setFont(fixed);
    result->addWidget(new QLabel(tr("URL (any WebSocket client):"), m_result));
    result->addLayout(copyRow(
        m_urlField, m_result, [this] { return url(); }, tr("URL with token")));
    m_snippetField = new QPlainTextEdit(m_result);
    m_snippetField->setReadOnly(true);
    m_snippetField->setFont(fixed);
    result->addWidget(new QLabel(tr("JavaScript (npm install phoenix):"), m_result));
    result->addLayout(copyRow(
        m_snippetField, m_result, [this] { return snippet(); }, tr("connect snippet")));
    m_result->hide();
    layout->addWidget(m_result, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(560, sizeHint().height());
}

QString PlayerTokenDialog::url() const
{
    return m_token.isEmpty() ? QString() : m_socketBase + u"/websocket?vsn=2.0.0&token="_s + m_token;
}

QString PlayerTokenDialog::snippet() const
{
    if (m_token.isEmpty()) {
        return {};
    }
    return uR"(import { Socket } from "phoenix";

const token = "%1";
const socket = new Socket("%2", { params: { token } });
socket.connect();

const channel = socket.channel("room:main", {});
channel.join()
  .receive("ok", (reply) => console.log("joined", reply))
  .receive("error", (reason) => console.log("join failed", reason));
)"_s.arg(m_token, m_socketBase);
}

bool PlayerTokenDialog::createToken()
{
    PlayerTokenRequest request;
    request.name = m_name->text().trimmed();
    request.sub = m_sub->text().trimmed().isEmpty() ? request.name : m_sub->text().trimmed();
    for (const QString &topic : m_topics->text().split(u',', Qt::SkipEmptyParts)) {
        if (!topic.trimmed().isEmpty()) {
            request.topics.append(topic.trimmed());
        }
    }
    request.ttlSeconds = qint64{m_hours->value()} * 3600;
    const PlayerToken minted = m_controller.mintPlayerToken(m_instanceId, request);
    if (!minted.isOk()) {
        m_error->setText(minted.field == u"sub" && request.sub.isEmpty() ? tr("Enter a name or a subject.")
                                                                         : minted.result.message);
        m_error->show();
        return false;
    }
    m_error->hide();
    m_token = QString::fromLatin1(minted.token);
    m_expires->setText(
        tr("Valid until %1 (for %2).")
            .arg(QLocale().toString(QDateTime::fromSecsSinceEpoch(minted.expiresAt), QLocale::ShortFormat),
                 request.sub));
    m_tokenField->setText(m_token);
    m_tokenField->setCursorPosition(0);
    m_urlField->setText(url());
    m_urlField->setCursorPosition(0);
    m_snippetField->setPlainText(snippet());
    m_result->show();
    return true;
}

} // namespace wsserve
