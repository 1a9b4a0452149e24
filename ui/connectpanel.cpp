// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "connectpanel.h"

#include "config/serverconfig.h"
#include "feedback.h"
#include "hostspanel.h"
#include "playertokendialog.h"
#include "qrcodewidget.h"
#include "servercontroller.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkInterface>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QUrl>

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
    m_tls = new QLabel(this);
    m_tls->setWordWrap(true);
    m_tls->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_tls);
    m_urlRows = new QVBoxLayout;
    layout->addLayout(m_urlRows);
    // The page players open in a browser (served by the game port), with its QR code for phones.
    auto *pageRow = new QHBoxLayout;
    m_qr = new QrCodeWidget(this);
    m_qr->setFixedSize(160, 160);
    pageRow->addWidget(m_qr);
    auto *pageColumn = new QVBoxLayout;
    auto *pageLabel = new QLabel(tr("Or open this page in a browser (or scan the code with a phone):"), this);
    pageLabel->setWordWrap(true);
    pageColumn->addWidget(pageLabel);
    m_pageField = new QLineEdit(this);
    m_pageField->setReadOnly(true);
    m_pageField->setAccessibleName(tr("Page address"));
    pageLabel->setBuddy(m_pageField);
    pageColumn->addWidget(m_pageField);
    auto *pageButtons = new QHBoxLayout;
    auto *copyPage = new QPushButton(tr("Copy"), this);
    connect(copyPage, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(m_pageUrl); });
    m_fullScreen = new QPushButton(tr("Show full screen"), this);
    m_fullScreen->setToolTip(tr("The QR code over the whole screen, for a projector (Esc closes it)"));
    connect(m_fullScreen, &QPushButton::clicked, this, [this] { (void)showQrFullScreen(); });
    pageButtons->addWidget(copyPage);
    pageButtons->addWidget(m_fullScreen);
    pageButtons->addStretch(1);
    pageColumn->addLayout(pageButtons);
    m_announce = new QCheckBox(tr("Announce on this network"), this);
    m_announce->setToolTip(tr("Let other devices find this instance (DNS-SD _wsserve._tcp through Avahi). Off by "
                              "default: nothing is announced unless you ask, e.g. on a café network."));
    connect(m_announce, &QCheckBox::toggled, this, [this](bool on) {
        if (!m_instanceId.isEmpty() && m_controller.instance(m_instanceId).config.boolOption(u"announce"_s) != on) {
            (void)m_controller.updateInstanceOptions(m_instanceId, {{u"announce"_s, on}});
        }
    });
    pageColumn->addWidget(m_announce);
    pageColumn->addStretch(1);
    pageRow->addLayout(pageColumn, 1);
    layout->addLayout(pageRow);
    auto *kindRow = new QHBoxLayout;
    m_kind = new QComboBox(this);
    m_kind->addItem(tr("Browser page (npm install phoenix)"), static_cast<int>(SnippetKind::Browser));
    m_kind->addItem(tr("Node.js (npm install phoenix ws)"), static_cast<int>(SnippetKind::Node));
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] { m_snippet->setPlainText(snippet()); });
    kindRow->addWidget(new QLabel(tr("JavaScript for"), this));
    kindRow->addWidget(m_kind);
    kindRow->addWidget(new QLabel(tr("— checked with phoenix %1").arg(QLatin1String(kPhoenixVersion)), this), 1);
    layout->addLayout(kindRow);
    m_snippet = new QPlainTextEdit(this);
    m_snippet->setReadOnly(true);
    m_snippet->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(m_snippet, 1);
    m_copySnippet = new QPushButton(tr("Copy snippet"), this);
    connect(m_copySnippet, &QPushButton::clicked, this,
            [this] { copyWithFeedback(m_copySnippet, m_snippet->toPlainText(), tr("Copied connect snippet")); });
    m_playerToken = new QPushButton(tr("Player token…"), this);
    m_playerToken->setToolTip(tr("Sign a token for one player with this instance's jwt_secret"));
    connect(m_playerToken, &QPushButton::clicked, this, [this] { (void)openPlayerTokenDialog(); });
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_playerToken);
    buttons->addStretch(1);
    buttons->addWidget(m_copySnippet);
    layout->addLayout(buttons);
    m_hosts = new HostsPanel(m_controller.hostBrowser(), this);
    layout->addWidget(m_hosts);
    connect(&m_controller, &ServerController::tlsChanged, this, &ConnectPanel::rebuild);
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

QWidget *ConnectPanel::showQrFullScreen()
{
    if (m_pageUrl.isEmpty()) {
        return nullptr;
    }
    auto *window = new QrFullScreen(m_pageUrl, this);
    window->showFullScreen();
    return window;
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

QString ConnectPanel::scheme() const
{
    return m_controller.isTls() ? u"wss"_s : u"ws"_s;
}

QString ConnectPanel::socketBase() const
{
    if (!m_urls.isEmpty()) {
        return m_urls.first();
    }
    const bool any = m_address == QHostAddress::Any || m_address == QHostAddress::AnyIPv4 ||
                     m_address == QHostAddress::AnyIPv6 || m_address.isNull();
    return u"%1://%2:%3/socket/%4"_s.arg(scheme(), any ? u"localhost"_s : urlHost(m_address))
        .arg(m_port)
        .arg(m_instanceId);
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
    return snippet(static_cast<SnippetKind>(m_kind->currentData().toInt()));
}

QString ConnectPanel::snippet(SnippetKind kind) const
{
    const QString url = m_urls.isEmpty() ? u"%1://localhost:%2/socket/%3"_s.arg(scheme()).arg(m_port).arg(m_instanceId)
                                         : m_urls.first();
    const QString type = m_instanceId.isEmpty() ? QString() : m_controller.instance(m_instanceId).config.type;
    return snippetFor(type, url, kind);
}

QString ConnectPanel::snippetFor(const QString &type, const QString &url, SnippetKind kind)
{
    // What the type answers: a topic it accepts, what to listen for, and a first push.
    struct Usage {
        QString comment;
        QString topic;
        QString joinParams;
        QString listen;
        QString afterJoin;
    };
    Usage usage;
    if (type == u"echo") {
        usage = {u"// echo: any topic; every push is answered ok with its payload."_s, u"echo:test"_s, u"{}"_s,
                 QString(), uR"(channel.push("ping", { hello: "world" })
      .receive("ok", (reply) => console.log("echoed", reply));)"_s};
    } else if (type == u"relay") {
        usage = {u"// relay: any topic; events go to every OTHER member (run two of these)."_s, u"room:lobby"_s,
                 uR"({ name: "alice" })"_s, uR"(channel.on("move", (msg) => console.log("move", msg));)"_s,
                 uR"(channel.push("move", { x: 1, y: 2 });)"_s};
    } else if (type == u"tictactoe") {
        usage = {u"// tictactoe: topics game:<name>; the first two to join play X and O, the rest spectate."_s,
                 u"game:1"_s, uR"({ name: "alice" })"_s,
                 uR"(channel.on("state", (game) => console.log("board", game.board.join(""), "turn", game.turn));)"_s,
                 uR"(console.log("playing as", reply.role);
    // your move, when it is your turn: channel.push("move", { cell: 4 }))"_s};
    } else if (type == u"chaos") {
        usage = {u"// chaos (testing aid): any topic; whoami, crash, stall { ms } and fail."_s, u"chaos:test"_s,
                 u"{}"_s, QString(),
                 uR"(channel.push("whoami", {}).receive("ok", (me) => console.log("I am", me));)"_s};
    } else {
        usage = {u"// %1: events go to every member of the topic (sender included)."_s.arg(type.isEmpty() ? u"chat"_s
                                                                                                          : type),
                 u"room:lobby"_s, uR"({ name: "alice" })"_s,
                 uR"(channel.on("shout", (msg) => console.log("shout", msg));)"_s,
                 uR"(channel.push("shout", { body: "hello" });)"_s};
    }
    const QString header = kind == SnippetKind::Node
                               ? uR"(// Node.js: npm install phoenix ws   (checked with phoenix %1)
const { Socket } = require("phoenix");
const WebSocket = require("ws");

const socket = new Socket("%2", { transport: WebSocket, params: {} });)"_s
                               : uR"(// Browser page: npm install phoenix, then bundle (checked with phoenix %1)
import { Socket } from "phoenix";

const socket = new Socket("%2", { params: {} });)"_s;
    QString text = header.arg(QLatin1String(kPhoenixVersion), url) + u"\nsocket.connect();\n\n"_s + usage.comment +
                   u"\nconst channel = socket.channel(\"%1\", %2);\n"_s.arg(usage.topic, usage.joinParams);
    if (!usage.listen.isEmpty()) {
        text += usage.listen + u'\n';
    }
    text += uR"(channel.join()
  .receive("ok", (reply) => {
    console.log("joined %1");
    %2
  })
  .receive("error", (reason) => console.log("join refused", reason));
)"_s.arg(usage.topic, usage.afterJoin);
    return text;
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
    const auto showPage = [this](const QString &url) {
        m_pageUrl = url;
        m_pageField->setText(url);
        m_qr->setText(url);
        m_qr->setVisible(!url.isEmpty());
        m_fullScreen->setEnabled(!url.isEmpty());
        const QSignalBlocker quiet(m_announce);
        m_announce->setEnabled(!m_instanceId.isEmpty());
        m_announce->setChecked(!m_instanceId.isEmpty() &&
                               m_controller.instance(m_instanceId).config.boolOption(u"announce"_s));
    };
    if (m_port == 0) {
        m_header->setText(tr("Not listening yet."));
        m_snippet->setPlainText(QString());
        showPage(QString());
        return;
    }
    const QString path = m_instanceId.isEmpty() ? u"/socket/<instance-id>"_s : u"/socket/"_s + m_instanceId;
    for (const QHostAddress &address : lanAddresses(m_address)) {
        m_urls.append(u"%1://%2:%3%4"_s.arg(scheme(), urlHost(address)).arg(m_port).arg(path));
    }
    m_header->setText(m_urls.isEmpty()
                          ? tr("Listening on %1:%2 — no LAN address found; this machine only: %4://localhost:%2%3")
                                .arg(m_address.toString())
                                .arg(m_port)
                                .arg(path, scheme())
                          : tr("Friends on your network connect to:"));
    m_tls->setVisible(m_controller.isTls());
    if (m_controller.isTls()) {
        QString text = tr("Encrypted (wss:// for sockets, https:// for pages). Certificate SHA-256 fingerprint: %1")
                           .arg(m_controller.tlsFingerprint());
        if (m_controller.tlsSelfSigned()) {
            const QString host = m_urls.isEmpty() ? u"localhost"_s : QUrl(m_urls.first()).host(QUrl::FullyEncoded);
            text += u"\n"_s + tr("First time on a phone: open https://%1:%2/ in its browser, check that it shows this "
                                 "fingerprint, and accept the certificate. Pages from that browser can then connect.")
                                  .arg(host.contains(u':') ? u'[' + host + u']' : host)
                                  .arg(m_port);
        }
        m_tls->setText(text);
    }
    for (const QString &url : std::as_const(m_urls)) {
        auto *row = new QHBoxLayout;
        auto *field = new QLineEdit(url, this);
        field->setReadOnly(true);
        auto *copy = new QPushButton(tr("Copy"), this);
        copy->setObjectName(u"copyUrl"_s);
        connect(copy, &QPushButton::clicked, this,
                [copy, url] { copyWithFeedback(copy, url, tr("Copied %1").arg(url)); });
        row->addWidget(field, 1);
        row->addWidget(copy);
        m_urlRows->addLayout(row);
    }
    const QList<QHostAddress> lan = lanAddresses(m_address);
    const QString pageHost = lan.isEmpty() ? u"localhost"_s : urlHost(lan.first());
    showPage(u"http://%1:%2/%3"_s.arg(pageHost).arg(m_port).arg(m_instanceId.isEmpty() ? QString()
                                                                                       : u"i/%1/"_s.arg(m_instanceId)));
    m_snippet->setPlainText(snippet());
}

} // namespace wsserve
