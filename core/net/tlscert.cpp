// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "tls.h"

#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QHostInfo>
#include <QNetworkInterface>
#include <QSaveFile>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace wsserve::net {

namespace {
constexpr qint64 kValidDays = 825; // the longest lifetime Apple's platforms accept for a TLS server certificate
const QString kCertName = QStringLiteral("tls-self-signed.crt");
const QString kKeyName = QStringLiteral("tls-self-signed.key");

struct Free {
    void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
    void operator()(X509 *cert) const { X509_free(cert); }
    void operator()(BIO *bio) const { BIO_free(bio); }
    void operator()(X509_EXTENSION *extension) const { X509_EXTENSION_free(extension); }
};

bool addExtension(X509 *cert, int nid, const QByteArray &value)
{
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, Free> extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.constData()));
    return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

QByteArray pem(const std::function<int(BIO *)> &write)
{
    std::unique_ptr<BIO, Free> bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) {
        return {};
    }
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, static_cast<qsizetype>(size));
}

bool writeFile(const QString &path, const QByteArray &bytes, bool secret, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QStringLiteral("%1: cannot write (%2)").arg(path, file.errorString());
        return false;
    }
    if (secret) {
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    }
    file.write(bytes);
    if (!file.commit()) {
        *error = QStringLiteral("%1: cannot write (%2)").arg(path, file.errorString());
        return false;
    }
    return true;
}
} // namespace

void selfSignedSubjects(QStringList *names, QStringList *addresses)
{
    names->clear();
    addresses->clear();
    const QString host = QHostInfo::localHostName().toLower();
    if (!host.isEmpty() && host != QLatin1String("localhost")) {
        names->append(host);
        if (!host.contains(QLatin1Char('.'))) {
            names->append(host + QStringLiteral(".local")); // mDNS, what phones on the LAN resolve
        }
    }
    names->append(QStringLiteral("localhost"));
    addresses->append(QStringLiteral("127.0.0.1"));
    addresses->append(QStringLiteral("::1"));
    for (const QNetworkInterface &interface : QNetworkInterface::allInterfaces()) {
        if (!(interface.flags() & QNetworkInterface::IsUp) || (interface.flags() & QNetworkInterface::IsLoopBack)) {
            continue;
        }
        for (const QNetworkAddressEntry &entry : interface.addressEntries()) {
            const QHostAddress address = entry.ip();
            if (address.isLinkLocal() || !address.scopeId().isEmpty()) {
                continue; // fe80::/10 and 169.254/16 cannot be named in a URL the way people type them
            }
            if (const QString text = address.toString(); !addresses->contains(text)) {
                addresses->append(text);
            }
        }
    }
}

bool ensureSelfSignedCertificate(const QString &folder, const QStringList &names, const QStringList &addresses,
                                 QString *certFile, QString *keyFile, QString *error)
{
    const QDir dir(folder);
    *certFile = dir.filePath(kCertName);
    *keyFile = dir.filePath(kKeyName);
    if (QFile::exists(*certFile) && QFile::exists(*keyFile)) {
        QString problem;
        if (const auto existing = TlsContext::load(*certFile, *keyFile, &problem); existing && !existing->isExpired()) {
            return true; // reused: phones that accepted it once keep accepting it
        }
    }
    if (!QDir().mkpath(folder)) {
        *error = QStringLiteral("%1: cannot create the folder for the certificate").arg(folder);
        return false;
    }
    // Valid from an hour ago: clocks of the devices on a LAN differ.
    return writeSelfSignedCertificate(*certFile, *keyFile, names, addresses, -3600, kValidDays * 24 * 3600, error);
}

bool writeSelfSignedCertificate(const QString &certFile, const QString &keyFile, const QStringList &names,
                                const QStringList &addresses, qint64 notBeforeSeconds, qint64 notAfterSeconds,
                                QString *error)
{
    ERR_clear_error();
    std::unique_ptr<EVP_PKEY, Free> key(EVP_EC_gen("P-256"));
    std::unique_ptr<X509, Free> cert(X509_new());
    if (!key || !cert) {
        *error = QStringLiteral("cannot make a key: OpenSSL error %1").arg(ERR_get_error());
        return false;
    }
    X509_set_version(cert.get(), 2); // v3
    unsigned char serial[16];
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f; // positive
    BIGNUM *number = BN_bin2bn(serial, sizeof(serial), nullptr);
    BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get()));
    BN_free(number);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(notBeforeSeconds));
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(notAfterSeconds));
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME *name = X509_get_subject_name(cert.get());
    const QByteArray commonName = (names.isEmpty() ? QStringLiteral("wsserve") : names.first()).toUtf8();
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("wsserve"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char *>(commonName.data()),
                               -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    QStringList alternatives;
    for (const QString &dns : names) {
        alternatives.append(QStringLiteral("DNS:") + dns);
    }
    for (const QString &ip : addresses) {
        alternatives.append(QStringLiteral("IP:") + ip);
    }
    if (!addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !addExtension(cert.get(), NID_ext_key_usage, "serverAuth") ||
        !addExtension(cert.get(), NID_subject_key_identifier, "hash") ||
        !addExtension(cert.get(), NID_subject_alt_name, alternatives.join(QLatin1Char(',')).toUtf8())) {
        *error = QStringLiteral("cannot make the certificate's extensions: OpenSSL error %1").arg(ERR_get_error());
        return false;
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
        *error = QStringLiteral("cannot sign the certificate: OpenSSL error %1").arg(ERR_get_error());
        return false;
    }
    const QByteArray keyPem =
        pem([&](BIO *bio) { return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    const QByteArray certPem = pem([&](BIO *bio) { return PEM_write_bio_X509(bio, cert.get()); });
    if (keyPem.isEmpty() || certPem.isEmpty()) {
        *error = QStringLiteral("cannot encode the certificate: OpenSSL error %1").arg(ERR_get_error());
        return false;
    }
    return writeFile(keyFile, keyPem, true, error) && writeFile(certFile, certPem, false, error);
}

} // namespace wsserve::net
