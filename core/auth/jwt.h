// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QString>

#include <memory>
#include <optional>

namespace wsserve::auth {

// How an instance verifies JSON Web Tokens (its `auth=jwt` options).
struct JwtConfig {
    QByteArray secret;       // HS256/384/512 when set
    QByteArray publicKeyPem; // RS256/384/512, ES256/384 or EdDSA when set (exactly one of the two)
    QString audience;        // checked when set: `aud` (string or array) must contain it
    QString issuer;          // checked when set: `iss` must equal it
    int leewaySeconds = 30;  // for exp, nbf, iat
};

// A token that passed every check.
struct VerifiedToken {
    QJsonObject claims;
    QString subject;      // `sub`, empty when absent
    qint64 expiresAt = 0; // `exp` in seconds since the epoch; 0 when the token does not expire
};

inline constexpr qsizetype kMaxTokenBytes = 4096;

// Verifies compact JWS tokens with OpenSSL's EVP interface. The algorithm family is fixed by the
// configured key (a secret: HS*, a PEM public key: its own type), never by the token's header, so
// `alg: none`, HS/RS confusion and a `kid` pointing elsewhere cannot change what is checked.
// Thread: immutable after create(); verify() may run on any thread.
class JwtVerifier
{
public:
    // nullptr and *error (a sentence naming the problem) when the key is unusable.
    static std::shared_ptr<const JwtVerifier> create(const JwtConfig &config, QString *error);
    ~JwtVerifier();

    // std::nullopt and *reason, a short phrase safe to show a client (never the token): "missing token",
    // "token over 4 KiB", "malformed token", "unsupported alg", "alg mismatch", "bad signature",
    // "expired", "not yet valid", "issued in the future", "wrong audience", "wrong issuer".
    std::optional<VerifiedToken> verify(QByteArrayView token, qint64 nowSeconds, QString *reason) const;
    bool usesSecret() const;

private:
    struct Private;
    explicit JwtVerifier(std::unique_ptr<Private> d);
    std::unique_ptr<Private> d;
};

// A compact HS256 token over these claims (player tokens a host hands out).
QByteArray signHs256(const QByteArray &secret, const QJsonObject &claims);

} // namespace wsserve::auth
