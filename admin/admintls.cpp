// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "admintls.h"

#include "admingate.h"
#include "adminserver.h"
#include "net/tls.h"

#include <QFile>
#include <QFileSystemWatcher>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QPointer>
#include <QSslCipher>
#include <QSslKey>
#include <QSslSocket>
#include <QTimer>

using namespace Qt::StringLiterals;

Q_DECLARE_LOGGING_CATEGORY(lcAdmin)

namespace wsserve {

namespace {

constexpr std::chrono::milliseconds kPlainLinger{2000};

QList<QSslCipher> modernCiphers()
{
    const QStringList tls12 = QString::fromLatin1(net::kTls12CipherList).split(u':');
    QList<QSslCipher> chosen;
    for (const QSslCipher &cipher : QSslConfiguration::supportedCiphers()) {
        if (cipher.protocol() == QSsl::TlsV1_3 || tls12.contains(cipher.name())) {
            chosen.append(cipher);
        }
    }
    return chosen;
}

QSslKey readKey(const QString &keyFile)
{
    QFile file(keyFile);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    const QByteArray pem = file.readAll();
    for (const QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa, QSsl::Dsa, QSsl::Dh}) {
        QSslKey key(pem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull()) {
            return key;
        }
    }
    return {};
}

// One connection from accept() to an established TLS session. A child of its socket.
class AdminHandshake final : public QObject
{
public:
    AdminHandshake(QSslSocket *socket, std::chrono::milliseconds timeout, AdminHandshakeHooks hooks)
        : QObject(socket)
        , m_socket(socket)
        , m_timeout(timeout)
        , m_hooks(std::move(hooks))
    {
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, &AdminHandshake::onTimeout);
        connect(socket, &QSslSocket::readyRead, this, &AdminHandshake::onReadyRead);
        connect(socket, &QSslSocket::encrypted, this, &AdminHandshake::onEncrypted);
        connect(socket, &QAbstractSocket::errorOccurred, this, &AdminHandshake::onError);
        connect(socket, &QAbstractSocket::disconnected, this, &AdminHandshake::close);
        m_timer.start(timeout);
    }

private:
    enum class Stage { FirstByte, Handshake, PlainRefused };

    void onReadyRead()
    {
        if (m_stage == Stage::PlainRefused) {
            m_socket->skip(m_socket->bytesAvailable());
            return;
        }
        if (m_stage != Stage::FirstByte) {
            return; // encrypted mode: readyRead means decrypted bytes, which wait for the gate
        }
        char first = 0;
        if (m_socket->peek(&first, 1) != 1) {
            return;
        }
        if (first == 0x16) { // a TLS handshake record: the bytes stay in the socket for OpenSSL
            m_stage = Stage::Handshake;
            m_socket->startServerEncryption();
            return;
        }
        if ((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z')) {
            refusePlainHttp();
            return;
        }
        qCDebug(lcAdmin).noquote() << "admin TLS: a connection from" << m_socket->peerAddress().toString()
                                   << "did not start with a TLS record; closed";
        close();
    }

    void refusePlainHttp()
    {
        m_stage = Stage::PlainRefused;
        const QString message = u"this port speaks TLS: use https://"_s;
        const QByteArray body = QJsonDocument(QJsonObject{{u"error"_s, message}}).toJson(QJsonDocument::Compact) + '\n';
        m_socket->write("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
                        QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
        m_socket->skip(m_socket->bytesAvailable());
        if (m_hooks.plainHttp) {
            m_hooks.plainHttp(m_socket->peerAddress());
        }
        // The answer is flushed, then the socket closes; input meanwhile is discarded (no RST over the answer).
        m_socket->disconnectFromHost();
        m_timer.start(std::min(m_timeout, kPlainLinger));
    }

    void onEncrypted()
    {
        m_timer.stop();
        disconnect(m_socket, nullptr, this, nullptr);
        qCDebug(lcAdmin).noquote() << "admin TLS session with" << m_socket->peerAddress().toString() << "-"
                                   << m_socket->sessionCipher().protocolString() << m_socket->sessionCipher().name();
        QSslSocket *socket = m_socket;
        const auto encrypted = m_hooks.encrypted;
        deleteLater();
        encrypted(socket);
    }

    void onError(QAbstractSocket::SocketError error)
    {
        if (error == QAbstractSocket::SslHandshakeFailedError) {
            qCDebug(lcAdmin).noquote() << "admin TLS handshake with" << m_socket->peerAddress().toString()
                                       << "failed:" << m_socket->errorString();
        }
        close();
    }

    void onTimeout()
    {
        if (m_stage != Stage::PlainRefused) {
            qCDebug(lcAdmin).noquote() << "admin TLS handshake with" << m_socket->peerAddress().toString()
                                       << "not done within" << m_timeout.count() << "ms; closed";
        }
        close();
    }

    void close()
    {
        m_timer.stop();
        disconnect(m_socket, nullptr, this, nullptr);
        m_socket->abort();
        m_socket->deleteLater(); // and this gate with it
    }

    QSslSocket *m_socket;
    const std::chrono::milliseconds m_timeout;
    const AdminHandshakeHooks m_hooks;
    QTimer m_timer;
    Stage m_stage = Stage::FirstByte;
};

} // namespace

std::optional<AdminTls> loadAdminTls(const QString &certFile, const QString &keyFile, QString *error)
{
    // OpenSSL's checks first, as for the game port: missing, unreadable, not PEM, key not matching.
    const std::shared_ptr<net::TlsContext> checked = net::TlsContext::load(certFile, keyFile, error);
    if (!checked) {
        return std::nullopt;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromPath(certFile, QSsl::Pem);
    if (chain.isEmpty()) {
        *error = u"%1: not a usable PEM certificate (Qt cannot read it)"_s.arg(certFile);
        return std::nullopt;
    }
    const QSslKey key = readKey(keyFile);
    if (key.isNull()) {
        *error = u"%1: not a usable PEM private key (Qt cannot read it; use an EC or RSA key)"_s.arg(keyFile);
        return std::nullopt;
    }
    AdminTls tls;
    tls.certFile = certFile;
    tls.keyFile = keyFile;
    tls.fingerprint = checked->fingerprint();
    tls.notAfter = checked->notAfter();
    tls.expired = checked->isExpired();
    QSslConfiguration &configuration = tls.configuration;
    configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificateChain(chain);
    configuration.setPrivateKey(key);
    configuration.setProtocol(QSsl::TlsV1_2OrLater);
    configuration.setCiphers(modernCiphers());
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // no client certificates: the token authenticates
    configuration.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
    configuration.setSslOption(QSsl::SslOptionDisableSessionTickets, true);
    configuration.setSslOption(QSsl::SslOptionDisableCompression, true);
    return tls;
}

void beginAdminHandshake(QSslSocket *socket, const QSslConfiguration &configuration, std::chrono::milliseconds timeout,
                         AdminHandshakeHooks hooks)
{
    socket->setSslConfiguration(configuration);
    new AdminHandshake(socket, timeout, std::move(hooks));
}

// ---- AdminServer's TLS members (kept here, beside the rest of the admin TLS code) ----

bool AdminServer::enableTls(const QString &certFile, const QString &keyFile, QString *error)
{
    std::optional<AdminTls> tls = loadAdminTls(certFile, keyFile, error);
    if (!tls) {
        return false;
    }
    if (tls->expired) {
        qCWarning(lcAdmin).noquote()
            << u"the admin API's TLS certificate %1 expired on %2; clients checking it will refuse it"_s.arg(
                   certFile, tls->notAfter.toString(Qt::ISODate));
    }
    m_tls = std::make_unique<AdminTls>(std::move(*tls));
    if (m_listener) {
        m_listener->setTls(m_tls->configuration);
    }
    if (!m_tlsWatcher) {
        m_tlsWatcher = new QFileSystemWatcher(this);
        auto *settle = new QTimer(this); // editors write a file in steps: reloaded once they settle
        settle->setSingleShot(true);
        settle->setInterval(300);
        connect(settle, &QTimer::timeout, this, &AdminServer::reloadTls);
        connect(m_tlsWatcher, &QFileSystemWatcher::fileChanged, settle, qOverload<>(&QTimer::start));
    }
    m_tlsWatcher->addPaths({certFile, keyFile});
    return true;
}

void AdminServer::reloadTls()
{
    if (!m_tls) {
        return;
    }
    m_tlsWatcher->addPaths({m_tls->certFile, m_tls->keyFile}); // a file replaced by a rename is watched again
    QString error;
    std::optional<AdminTls> tls = loadAdminTls(m_tls->certFile, m_tls->keyFile, &error);
    if (!tls) {
        qCWarning(lcAdmin).noquote() << "admin TLS certificate not reloaded, the previous one stays in use:" << error;
        return;
    }
    if (tls->fingerprint == m_tls->fingerprint) {
        return;
    }
    m_tls = std::make_unique<AdminTls>(std::move(*tls));
    if (m_listener) {
        m_listener->setTls(m_tls->configuration); // new connections; established ones keep theirs
    }
    qCInfo(lcAdmin).noquote() << "admin TLS certificate reloaded from" << m_tls->certFile << "- SHA-256"
                              << m_tls->fingerprint;
}

bool AdminServer::isTls() const
{
    return m_tls != nullptr;
}

QString AdminServer::tlsFingerprint() const
{
    return m_tls ? m_tls->fingerprint : QString();
}

QString AdminServer::tlsCertFile() const
{
    return m_tls ? m_tls->certFile : QString();
}

} // namespace wsserve
