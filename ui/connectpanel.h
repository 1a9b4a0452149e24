// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QHostAddress>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QVBoxLayout;

namespace wsserve {

class HostsPanel;
class PlayerTokenDialog;
class ServerController;

// "Connect": the URLs a friend on the LAN would use (one per non-loopback interface address), each
// with a copy button, and a ready-to-paste snippet for the official JS client. For an instance with
// auth=jwt and jwt_secret, "Player token…" opens a PlayerTokenDialog. Thread: GUI thread.
class QrCodeWidget;

class ConnectPanel final : public QWidget
{
    Q_OBJECT

public:
    explicit ConnectPanel(ServerController &controller, QWidget *parent = nullptr);

    void setEndpoint(const QHostAddress &address, quint16 port);
    void setInstance(const QString &id);
    QStringList urls() const { return m_urls; }
    // The instance's page on the game port for the first LAN address (http://HOST:PORT/i/<id>/), shown
    // with its QR code and "Show full screen"; empty when not listening.
    QString pageUrl() const { return m_pageUrl; }
    QrCodeWidget *qrCode() const { return m_qr; }
    QPushButton *fullScreenButton() const { return m_fullScreen; }
    // "Announce on this network": the instance's `announce` option (DNS-SD), off by default.
    QCheckBox *announceBox() const { return m_announce; }
    // Opens the full-screen QR window (deleted on close); nullptr when there is no page URL.
    QWidget *showQrFullScreen();
    // Who runs the snippet: a page (phoenix from npm, bundled) or Node.js (phoenix plus ws as the transport).
    enum class SnippetKind { Browser = 0, Node };
    // The phoenix release the snippets were checked with (tests/conformance pins it).
    static constexpr const char *kPhoenixVersion = "1.8.16";
    QString snippet() const; // the variant chosen in the panel
    QString snippet(SnippetKind kind) const;
    // A snippet for an instance of `type` at `url`: a topic the type accepts and the events it answers. It
    // prints "joined <topic>" once the join is accepted.
    static QString snippetFor(const QString &type, const QString &url, SnippetKind kind);
    QComboBox *snippetKindBox() const { return m_kind; }
    // Shown only for an instance that can mint player tokens.
    QPushButton *playerTokenButton() const { return m_playerToken; }
    QPushButton *copySnippetButton() const { return m_copySnippet; }
    // Opens the dialog (non-modal, deleted on close) and returns it; nullptr when the instance cannot mint.
    PlayerTokenDialog *openPlayerTokenDialog();

    // With TLS: the certificate's fingerprint and, for a self-signed one, the "first time on a phone" hint.
    QLabel *tlsLabel() const { return m_tls; }
    // "Hosts on this network" (DNS-SD browsing; off until its box is ticked).
    HostsPanel *hostsPanel() const { return m_hosts; }

    // Non-loopback addresses to offer for a listener on `bound` (all interfaces when it is "any").
    static QList<QHostAddress> lanAddresses(const QHostAddress &bound);

private:
    void rebuild();

    QString socketBase() const;
    QString scheme() const;

    ServerController &m_controller;
    QHostAddress m_address;
    quint16 m_port = 0;
    QString m_instanceId;
    QStringList m_urls;
    QLabel *m_header = nullptr;
    QLabel *m_tls = nullptr;
    QComboBox *m_kind = nullptr;
    QVBoxLayout *m_urlRows = nullptr;
    QPlainTextEdit *m_snippet = nullptr;
    QPushButton *m_playerToken = nullptr;
    QPushButton *m_copySnippet = nullptr;
    QString m_pageUrl;
    QrCodeWidget *m_qr = nullptr;
    QLineEdit *m_pageField = nullptr;
    QPushButton *m_fullScreen = nullptr;
    QCheckBox *m_announce = nullptr;
    HostsPanel *m_hosts = nullptr;
};

} // namespace wsserve
