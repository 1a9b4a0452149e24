// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Compact JWS verification with OpenSSL 3's EVP interface (no hand-written primitives). The key decides
// the algorithm family; the token's `alg` only has to name one algorithm of it that fits the key.
// A secret of any non-empty length is accepted (RFC 7518 3.2 asks for at least the hash size, 32 bytes
// for HS256); the caller's configuration documentation says so.

#include "auth/jwt.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cmath>
#include <limits>

namespace wsserve::auth {

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
struct BioFree {
    void operator()(BIO *p) const { BIO_free(p); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX *p) const { EVP_MD_CTX_free(p); }
};
struct EcdsaSigFree {
    void operator()(ECDSA_SIG *p) const { ECDSA_SIG_free(p); }
};
struct BnFree {
    void operator()(BIGNUM *p) const { BN_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

enum class Family { Hmac, Rsa, EcP256, EcP384, Ed25519 };

enum class Alg { HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA };

struct AlgName {
    const char *name;
    Alg alg;
};

constexpr AlgName kAlgs[] = {
    {"HS256", Alg::HS256}, {"HS384", Alg::HS384}, {"HS512", Alg::HS512}, {"RS256", Alg::RS256},
    {"RS384", Alg::RS384}, {"RS512", Alg::RS512}, {"PS256", Alg::PS256}, {"PS384", Alg::PS384},
    {"PS512", Alg::PS512}, {"ES256", Alg::ES256}, {"ES384", Alg::ES384}, {"EdDSA", Alg::EdDSA},
};

// Registered JWS names this verifier never accepts: "alg mismatch" rather than "unsupported alg".
constexpr const char *kKnownRefused[] = {"none", "ES512", "ES256K", "Ed25519", "Ed448"};

bool familyAllows(Family family, Alg alg)
{
    switch (family) {
    case Family::Hmac:
        return alg == Alg::HS256 || alg == Alg::HS384 || alg == Alg::HS512;
    case Family::Rsa:
        return alg == Alg::RS256 || alg == Alg::RS384 || alg == Alg::RS512 || alg == Alg::PS256 || alg == Alg::PS384 ||
               alg == Alg::PS512;
    case Family::EcP256:
        return alg == Alg::ES256;
    case Family::EcP384:
        return alg == Alg::ES384;
    case Family::Ed25519:
        return alg == Alg::EdDSA;
    }
    return false;
}

const EVP_MD *digestFor(Alg alg)
{
    switch (alg) {
    case Alg::HS256:
    case Alg::RS256:
    case Alg::PS256:
    case Alg::ES256:
        return EVP_sha256();
    case Alg::HS384:
    case Alg::RS384:
    case Alg::PS384:
    case Alg::ES384:
        return EVP_sha384();
    case Alg::HS512:
    case Alg::RS512:
    case Alg::PS512:
        return EVP_sha512();
    case Alg::EdDSA:
        return nullptr;
    }
    return nullptr;
}

bool isBase64UrlChar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

constexpr auto kB64Options = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

// Strict base64url: only the URL alphabet, no padding, and the canonical encoding of what it decodes
// to (so unused trailing bits must be zero and one token has exactly one spelling).
std::optional<QByteArray> decodeSegment(QByteArrayView part)
{
    for (char c : part) {
        if (!isBase64UrlChar(c)) {
            return std::nullopt;
        }
    }
    const QByteArray raw = part.toByteArray();
    auto result = QByteArray::fromBase64Encoding(raw, kB64Options | QByteArray::AbortOnBase64DecodingErrors);
    if (!result) {
        return std::nullopt;
    }
    if (result.decoded.toBase64(kB64Options) != raw) {
        return std::nullopt;
    }
    return std::move(result.decoded);
}

std::optional<QJsonObject> parseObject(const QByteArray &json)
{
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        return std::nullopt;
    }
    return doc.object();
}

bool verifyHmac(Alg alg, const QByteArray &secret, QByteArrayView input, const QByteArray &signature)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int macLen = 0;
    static const unsigned char empty = 0;
    const unsigned char *key = secret.isEmpty() ? &empty : reinterpret_cast<const unsigned char *>(secret.constData());
    if (HMAC(digestFor(alg), key, int(secret.size()), reinterpret_cast<const unsigned char *>(input.data()),
             size_t(input.size()), mac, &macLen) == nullptr) {
        return false;
    }
    const bool ok = qsizetype(macLen) == signature.size() && CRYPTO_memcmp(mac, signature.constData(), macLen) == 0;
    OPENSSL_cleanse(mac, sizeof mac);
    return ok;
}

// JWS ECDSA signatures are R || S, each the curve's byte size; EVP wants DER.
QByteArray rawEcdsaToDer(const QByteArray &raw)
{
    const int half = int(raw.size() / 2);
    const auto *bytes = reinterpret_cast<const unsigned char *>(raw.constData());
    BnPtr r(BN_bin2bn(bytes, half, nullptr));
    BnPtr s(BN_bin2bn(bytes + half, half, nullptr));
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        return {};
    }
    r.release(); // owned by sig now
    s.release();
    const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) {
        return {};
    }
    QByteArray der(len, Qt::Uninitialized);
    auto *out = reinterpret_cast<unsigned char *>(der.data());
    if (i2d_ECDSA_SIG(sig.get(), &out) != len) {
        return {};
    }
    return der;
}

bool verifyWithKey(Alg alg, EVP_PKEY *key, QByteArrayView input, const QByteArray &signature)
{
    QByteArray sig = signature;
    if (alg == Alg::ES256 || alg == Alg::ES384) {
        sig = rawEcdsaToDer(signature);
        if (sig.isEmpty()) {
            return false;
        }
    }
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) {
        return false;
    }
    EVP_PKEY_CTX *pctx = nullptr; // owned by ctx
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, digestFor(alg), nullptr, key) != 1) {
        return false;
    }
    if (alg == Alg::PS256 || alg == Alg::PS384 || alg == Alg::PS512) {
        // RFC 7518 3.5: MGF1 with the same hash (OpenSSL's default), salt length = hash length.
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, digestFor(alg)) != 1) {
            return false;
        }
    } else if (alg == Alg::RS256 || alg == Alg::RS384 || alg == Alg::RS512) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
            return false;
        }
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(sig.constData()), size_t(sig.size()),
                            reinterpret_cast<const unsigned char *>(input.data()), size_t(input.size())) == 1;
}

// A NumericDate (RFC 7519 2): any JSON number; anything else is malformed.
bool readTime(const QJsonObject &claims, const char *name, std::optional<double> *out)
{
    const auto it = claims.constFind(QLatin1StringView(name));
    if (it == claims.constEnd()) {
        return true;
    }
    if (!it->isDouble() || !std::isfinite(it->toDouble())) {
        return false;
    }
    *out = it->toDouble();
    return true;
}

bool audienceMatches(const QJsonValue &aud, const QString &wanted)
{
    if (aud.isString()) {
        return aud.toString() == wanted;
    }
    if (aud.isArray()) {
        const QJsonArray list = aud.toArray();
        for (const QJsonValue &entry : list) {
            if (entry.isString() && entry.toString() == wanted) {
                return true;
            }
        }
    }
    return false;
}

std::optional<VerifiedToken> fail(QString *reason, const char *text)
{
    if (reason) {
        *reason = QString::fromLatin1(text);
    }
    ERR_clear_error(); // nothing of a refused token stays on this thread's OpenSSL error queue
    return std::nullopt;
}

} // namespace

struct JwtVerifier::Private {
    JwtConfig config;
    Family family = Family::Hmac;
    PkeyPtr key;
    qsizetype keyBytes = 0; // RSA modulus size: the exact RS/PS signature length
};

JwtVerifier::JwtVerifier(std::unique_ptr<Private> p)
    : d(std::move(p))
{}

JwtVerifier::~JwtVerifier() = default;

bool JwtVerifier::usesSecret() const
{
    return d->family == Family::Hmac;
}

std::shared_ptr<const JwtVerifier> JwtVerifier::create(const JwtConfig &config, QString *error)
{
    auto refuse = [error](const QString &text) {
        if (error) {
            *error = text;
        }
        ERR_clear_error();
        return std::shared_ptr<const JwtVerifier>();
    };
    const bool hasSecret = !config.secret.isEmpty();
    const bool hasKey = !config.publicKeyPem.isEmpty();
    if (hasSecret && hasKey) {
        return refuse(QStringLiteral("set jwt_secret or jwt_public_key, not both"));
    }
    if (!hasSecret && !hasKey) {
        return refuse(QStringLiteral("set jwt_secret or jwt_public_key"));
    }
    if (config.leewaySeconds < 0) {
        return refuse(QStringLiteral("jwt_leeway must not be negative"));
    }
    auto p = std::make_unique<Private>();
    p->config = config;
    if (hasSecret) {
        p->family = Family::Hmac;
        return std::shared_ptr<const JwtVerifier>(new JwtVerifier(std::move(p)));
    }

    BioPtr bio(BIO_new_mem_buf(config.publicKeyPem.constData(), int(config.publicKeyPem.size())));
    if (!bio) {
        return refuse(QStringLiteral("jwt_public_key could not be read"));
    }
    p->key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!p->key) {
        return refuse(QStringLiteral("jwt_public_key is not a PEM public key (-----BEGIN PUBLIC KEY-----)"));
    }
    EVP_PKEY *key = p->key.get();
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: {
        const int bits = EVP_PKEY_get_bits(key);
        if (bits < 2048) {
            return refuse(
                QStringLiteral("jwt_public_key is a %1-bit RSA key; at least 2048 bits are needed").arg(bits));
        }
        p->family = Family::Rsa;
        p->keyBytes = EVP_PKEY_get_size(key);
        break;
    }
    case EVP_PKEY_EC: {
        char group[64] = {};
        size_t groupLen = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &groupLen) != 1) {
            return refuse(QStringLiteral("jwt_public_key is an EC key without a named curve"));
        }
        const QByteArray curve(group, qsizetype(groupLen));
        if (curve == "prime256v1" || curve == "P-256") {
            p->family = Family::EcP256;
        } else if (curve == "secp384r1" || curve == "P-384") {
            p->family = Family::EcP384;
        } else {
            return refuse(QStringLiteral("jwt_public_key is on EC curve %1; only P-256 (ES256) and P-384 (ES384) "
                                         "are supported")
                              .arg(QString::fromLatin1(curve)));
        }
        break;
    }
    case EVP_PKEY_ED25519:
        p->family = Family::Ed25519;
        break;
    default:
        return refuse(QStringLiteral("jwt_public_key has an unsupported key type; use RSA, EC P-256/P-384 or "
                                     "Ed25519"));
    }
    return std::shared_ptr<const JwtVerifier>(new JwtVerifier(std::move(p)));
}

std::optional<VerifiedToken> JwtVerifier::verify(QByteArrayView token, qint64 nowSeconds, QString *reason) const
{
    if (token.isEmpty()) {
        return fail(reason, "missing token");
    }
    if (token.size() > kMaxTokenBytes) {
        return fail(reason, "token over 4 KiB");
    }
    const qsizetype dot1 = token.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) {
        return fail(reason, "malformed token");
    }
    const QByteArrayView headerPart = token.first(dot1);
    const QByteArrayView payloadPart = token.sliced(dot1 + 1, dot2 - dot1 - 1);
    const QByteArrayView signaturePart = token.sliced(dot2 + 1);
    if (headerPart.isEmpty() || payloadPart.isEmpty()) {
        return fail(reason, "malformed token");
    }
    const auto headerJson = decodeSegment(headerPart);
    const auto payloadJson = decodeSegment(payloadPart);
    const auto signature = decodeSegment(signaturePart);
    if (!headerJson || !payloadJson || !signature) {
        return fail(reason, "malformed token");
    }
    const auto header = parseObject(*headerJson);
    if (!header) {
        return fail(reason, "malformed token");
    }
    // `crit` names extensions the verifier must understand; this one understands none.
    if (header->contains(QLatin1StringView("crit"))) {
        return fail(reason, "malformed token");
    }
    const QJsonValue algValue = header->value(QLatin1StringView("alg"));
    if (!algValue.isString()) {
        return fail(reason, "malformed token");
    }
    const QString algName = algValue.toString();
    std::optional<Alg> alg;
    for (const AlgName &entry : kAlgs) {
        if (algName == QLatin1StringView(entry.name)) {
            alg = entry.alg;
        }
    }
    if (!alg) {
        for (const char *known : kKnownRefused) {
            if (algName == QLatin1StringView(known)) {
                return fail(reason, "alg mismatch");
            }
        }
        return fail(reason, "unsupported alg");
    }
    if (!familyAllows(d->family, *alg)) {
        return fail(reason, "alg mismatch");
    }

    qsizetype expectedSize = 0;
    switch (*alg) {
    case Alg::HS256:
    case Alg::HS384:
    case Alg::HS512:
        expectedSize = EVP_MD_get_size(digestFor(*alg));
        break;
    case Alg::RS256:
    case Alg::RS384:
    case Alg::RS512:
    case Alg::PS256:
    case Alg::PS384:
    case Alg::PS512:
        expectedSize = d->keyBytes;
        break;
    case Alg::ES256:
    case Alg::EdDSA:
        expectedSize = 64;
        break;
    case Alg::ES384:
        expectedSize = 96;
        break;
    }
    if (signature->isEmpty() || signature->size() != expectedSize) {
        return fail(reason, "bad signature");
    }
    const QByteArrayView signingInput = token.first(dot2);
    const bool valid = d->family == Family::Hmac ? verifyHmac(*alg, d->config.secret, signingInput, *signature)
                                                 : verifyWithKey(*alg, d->key.get(), signingInput, *signature);
    if (!valid) {
        return fail(reason, "bad signature");
    }

    // Only an authenticated payload is parsed.
    const auto claims = parseObject(*payloadJson);
    if (!claims) {
        return fail(reason, "malformed token");
    }
    std::optional<double> exp;
    std::optional<double> nbf;
    std::optional<double> iat;
    if (!readTime(*claims, "exp", &exp) || !readTime(*claims, "nbf", &nbf) || !readTime(*claims, "iat", &iat)) {
        return fail(reason, "malformed token");
    }
    const QJsonValue sub = claims->value(QLatin1StringView("sub"));
    if (!sub.isUndefined() && !sub.isString()) {
        return fail(reason, "malformed token");
    }
    const double now = double(nowSeconds);
    const double leeway = double(d->config.leewaySeconds);
    if (exp && now > *exp + leeway) {
        return fail(reason, "expired");
    }
    if (nbf && now + leeway < *nbf) {
        return fail(reason, "not yet valid");
    }
    if (iat && *iat > now + leeway) {
        return fail(reason, "issued in the future");
    }
    if (!d->config.audience.isEmpty() &&
        !audienceMatches(claims->value(QLatin1StringView("aud")), d->config.audience)) {
        return fail(reason, "wrong audience");
    }
    if (!d->config.issuer.isEmpty()) {
        const QJsonValue iss = claims->value(QLatin1StringView("iss"));
        if (!iss.isString() || iss.toString() != d->config.issuer) {
            return fail(reason, "wrong issuer");
        }
    }

    VerifiedToken verified;
    verified.claims = *claims;
    verified.subject = sub.toString();
    if (exp) {
        // Saturate: a far-future exp (1e300 is a valid JSON number) must not overflow the conversion.
        constexpr double kMax = 9.0e18;
        verified.expiresAt = *exp >= kMax ? qint64(kMax) : *exp <= -kMax ? qint64(-kMax) : qint64(std::floor(*exp));
    }
    return verified;
}

QByteArray signHs256(const QByteArray &secret, const QJsonObject &claims)
{
    const QByteArray header = QByteArrayLiteral(R"({"alg":"HS256","typ":"JWT"})").toBase64(kB64Options);
    const QByteArray payload = QJsonDocument(claims).toJson(QJsonDocument::Compact).toBase64(kB64Options);
    const QByteArray input = header + '.' + payload;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int macLen = 0;
    static const unsigned char empty = 0;
    const unsigned char *key = secret.isEmpty() ? &empty : reinterpret_cast<const unsigned char *>(secret.constData());
    if (HMAC(EVP_sha256(), key, int(secret.size()), reinterpret_cast<const unsigned char *>(input.constData()),
             size_t(input.size()), mac, &macLen) == nullptr) {
        ERR_clear_error();
        return {};
    }
    return input + '.' + QByteArray(reinterpret_cast<const char *>(mac), qsizetype(macLen)).toBase64(kB64Options);
}

} // namespace wsserve::auth
