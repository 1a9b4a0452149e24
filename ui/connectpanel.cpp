// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "connectpanel.h"

#include "config/serverconfig.h"
#include "playertokendialog.h"
#include "servercontroller.h"

#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkInterface>
#include <QPlainTextEdit>
#include <QPushButton>

using namespace Qt::StringLiterals;

namespace wsserve {

ConnectPanel::ConnectPanel(ServerController &controller, QWidget *parent)
    : QWidget(parent)
    , m_controller(controller)
{
    auto *layout = new QVBoxLayout(this);
    m_header = new QLabel(this);
    m_header->setWordWrap(true);
    layout->addWidget(m_header);
    m_urlRows = new QVBoxLayout;
    layout->addLayout(m_urlRows);
    layout->addWidget(new QLabel(tr("JavaScript (npm install phoenix):"), this));
    m_snippet = new QPlainTextEdit(this);
    m_snippet->setReadOnly(true);
    m_snippet->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(m_snippet, 1);
    auto *copySnippet = new QPushButton(tr("Copy snippet"), this);
    connect(copySnippet, &QPushButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(m_snippet->toPlainText()); });
    m_playerToken = new QPushButton(tr("Player token…"), this);
    m_playerToken->setToolTip(tr("Sign a token for one player with this instance's jwt_secret"));
    connect(m_playerToken, &QPushButton::clicked, this, [this] { (void)openPlayerTokenDialog(); });
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_playerToken);
    buttons->addStretch(1);
    buttons->addWidget(copySnippet);
    layout->addLayout(buttons);
    connect(&m_controller, &ServerController::instanceAdded, this, [this](const QString &id) {
        if (id == m_instanceId) {
            rebuild();
        }
    });
    rebuild();
}

void ConnectPanel::setEndpoint(const QHostAddress &address, quint16 port)
{
    m_address = address;
    m_port = port;
    rebuild();
}

void ConnectPanel::setInstance(const QString &id)
{
    m_instanceId = id;
    rebuild();
}

QList<QHostAddress> ConnectPanel::lanAddresses(const QHostAddress &bound)
{
    QList<QHostAddress> result;
    const bool any = bound == QHostAddress::Any || bound == QHostAddress::AnyIPv4 || bound == QHostAddress::AnyIPv6;
    if (!any) {
        if (!bound.isLoopback()) {
            result.append(bound);
        }
        return result;
    }
    for (const QHostAddress &address : QNetworkInterface::allAddresses()) {
        if (address.isLoopback() || address.isNull()) {
            continue;
        }
        if (bound == QHostAddress::AnyIPv4 && address.protocol() != QAbstractSocket::IPv4Protocol) {
            continue;
        }
        if (address.protocol() == QAbstractSocket::IPv6Protocol && address.isLinkLocal()) {
            continue; // needs a scope id that browsers will not take
        }
        result.append(address);
    }
    return result;
}

QString ConnectPanel::socketBase() const
{
    if (!m_urls.isEmpty()) {
        return m_urls.first();
    }
    const bool any = m_address == QHostAddress::Any || m_address == QHostAddress::AnyIPv4 ||
                     m_address == QHostAddress::AnyIPv6 || m_address.isNull();
    return u"ws://%1:%2/socket/%3"_s.arg(any ? u"localhost"_s : urlHost(m_address)).arg(m_port).arg(m_instanceId);
}

PlayerTokenDialog *ConnectPanel::openPlayerTokenDialog()
{
    if (m_instanceId.isEmpty() || !m_controller.canMintPlayerTokens(m_instanceId)) {
        return nullptr;
    }
    auto *dialog = new PlayerTokenDialog(m_controller, m_instanceId, socketBase(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

QString ConnectPanel::snippet() const
{
    const QString url =
        m_urls.isEmpty() ? u"ws://localhost:%1/socket/%2"_s.arg(m_port).arg(m_instanceId) : m_urls.first();
    return uR"(import { Socket } from "phoenix";

const socket = new Socket("%1", { params: {} });
socket.connect();

const channel = socket.channel("room:main", { name: "alice" });
channel.on("shout", (msg) => console.log("shout", msg));
channel.join()
  .receive("ok", (reply) => channel.push("shout", { body: "hello" }))
  .receive("error", (reason) => console.log("join failed", reason));
)"_s.arg(url);
}

void ConnectPanel::rebuild()
{
    while (QLayoutItem *item = m_urlRows->takeAt(0)) {
        if (QWidget *widget = item->widget()) {
            widget->deleteLater();
        } else if (QLayout *row = item->layout()) {
            while (QLayoutItem *child = row->takeAt(0)) {
                if (child->widget()) {
                    child->widget()->deleteLater();
                }
                delete child;
            }
        }
        delete item;
    }
    m_urls.clear();
    m_playerToken->setVisible(m_port != 0 && !m_instanceId.isEmpty() && m_controller.canMintPlayerTokens(m_instanceId));
    if (m_port == 0) {
        m_header->setText(tr("Not listening yet."));
        m_snippet->setPlainText(QString());
        return;
    }
    const QString path = m_instanceId.isEmpty() ? u"/socket/<instance-id>"_s : u"/socket/"_s + m_instanceId;
    for (const QHostAddress &address : lanAddresses(m_address)) {
        m_urls.append(u"ws://%1:%2%3"_s.arg(urlHost(address)).arg(m_port).arg(path));
    }
    m_header->setText(m_urls.isEmpty()
                          ? tr("Listening on %1:%2 — no LAN address found; this machine only: ws://localhost:%2%3")
                                .arg(m_address.toString())
                                .arg(m_port)
                                .arg(path)
                          : tr("Friends on your network connect to:"));
    for (const QString &url : std::as_const(m_urls)) {
        auto *row = new QHBoxLayout;
        auto *field = new QLineEdit(url, this);
        field->setReadOnly(true);
        auto *copy = new QPushButton(tr("Copy"), this);
        connect(copy, &QPushButton::clicked, this, [url] { QGuiApplication::clipboard()->setText(url); });
        row->addWidget(field, 1);
        row->addWidget(copy);
        m_urlRows->addLayout(row);
    }
    m_snippet->setPlainText(snippet());
}

} // namespace wsserve
