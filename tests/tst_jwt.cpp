// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for core/auth/jwt: RFC 7515 Appendix A.1 (HS256), A.2 (RS256) and A.3 (ES256) vectors with
// keys built from the RFC's JWK values; every other algorithm with keys generated here and tokens signed
// by a small OpenSSL helper in this file; the attacks (alg none, HS/RS confusion, curve mismatch, crit),
// the time claims at their leeway boundaries, aud/iss, the 4 KiB limit, malformed input and a mutation loop.

#include "auth/jwt.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

using namespace wsserve::auth;
using namespace Qt::StringLiterals;

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

constexpr auto kB64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64(kB64);
}

QByteArray unb64(const QByteArray &text)
{
    return QByteArray::fromBase64(text, kB64);
}

// RFC 7515 Appendix A: the shared payload and the three signed examples.
const QByteArray kRfcPayload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ij"
                               "p0cnVlfQ";
const QByteArray kA1Token =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + kRfcPayload + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const QByteArray kA1Key = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const QByteArray kA2N =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-"
    "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
    "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-"
    "DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const QByteArray kA2Token = "eyJhbGciOiJSUzI1NiJ9." + kRfcPayload +
                            ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
                            "O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
                            "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_"
                            "eSN9383LcOLn6_dO--xi12jzDwusC-"
                            "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmt"
                            "VrBp0igcN_IoypGlUPQGe77Rw";
const QByteArray kA3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const QByteArray kA3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const QByteArray kA3Token = "eyJhbGciOiJFUzI1NiJ9." + kRfcPayload +
                            ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
constexpr qint64 kRfcExp = 1300819380;

QByteArray pemOf(EVP_PKEY *key, bool privateKey = false)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if ((privateKey ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)
                    : PEM_write_bio_PUBKEY(bio.get(), key)) != 1) {
        return {};
    }
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, qsizetype(len));
}

PkeyPtr keyFromParams(const char *type, OSSL_PARAM_BLD *bld)
{
    std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld), &OSSL_PARAM_free);
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr),
                                                                    &EVP_PKEY_CTX_free);
    EVP_PKEY *key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
        return nullptr;
    }
    return PkeyPtr(key);
}

// The RFC's RSA JWK (n, e = AQAB) as a PEM public key.
QByteArray rfcRsaPem()
{
    const QByteArray n = unb64(kA2N);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(
        BN_bin2bn(reinterpret_cast<const unsigned char *>(n.constData()), int(n.size()), nullptr), &BN_free);
    std::unique_ptr<BIGNUM, decltype(&BN_free)> be(BN_new(), &BN_free);
    BN_set_word(be.get(), 65537);
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), &OSSL_PARAM_BLD_free);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get());
    PkeyPtr key = keyFromParams("RSA", bld.get());
    return key ? pemOf(key.get()) : QByteArray();
}

// The RFC's P-256 JWK (x, y) as a PEM public key.
QByteArray rfcEcPem()
{
    QByteArray point = '\x04' + unb64(kA3X) + unb64(kA3Y);
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), &OSSL_PARAM_BLD_free);
    char group[] = "P-256";
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), size_t(point.size()));
    PkeyPtr key = keyFromParams("EC", bld.get());
    return key ? pemOf(key.get()) : QByteArray();
}

QByteArray hmac(const char *md, const QByteArray &key, const QByteArray &input)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_get_digestbyname(md), key.constData(), int(key.size()),
         reinterpret_cast<const unsigned char *>(input.constData()), size_t(input.size()), out, &len);
    return QByteArray(reinterpret_cast<const char *>(out), qsizetype(len));
}

const EVP_MD *mdFor(const QByteArray &alg)
{
    if (alg.endsWith("256")) {
        return EVP_sha256();
    }
    if (alg.endsWith("384")) {
        return EVP_sha384();
    }
    if (alg.endsWith("512")) {
        return EVP_sha512();
    }
    return nullptr; // EdDSA
}

// A JWS signature with a private key: RS (PKCS#1 v1.5), PS (PSS, salt = hash length), ES (raw r||s), EdDSA.
QByteArray signWith(EVP_PKEY *key, const QByteArray &alg, const QByteArray &input, int pssSalt = RSA_PSS_SALTLEN_DIGEST)
{
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX *pctx = nullptr;
    if (EVP_DigestSignInit(ctx.get(), &pctx, mdFor(alg), nullptr, key) != 1) {
        return {};
    }
    if (alg.startsWith("PS")) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, pssSalt);
    }
    size_t len = 0;
    const auto *in = reinterpret_cast<const unsigned char *>(input.constData());
    if (EVP_DigestSign(ctx.get(), nullptr, &len, in, size_t(input.size())) != 1) {
        return {};
    }
    QByteArray sig(qsizetype(len), Qt::Uninitialized);
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(sig.data()), &len, in, size_t(input.size())) != 1) {
        return {};
    }
    sig.resize(qsizetype(len));
    if (!alg.startsWith("ES")) {
        return sig;
    }
    const int half = alg == "ES256" ? 32 : 48;
    const auto *der = reinterpret_cast<const unsigned char *>(sig.constData());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> ecdsa(d2i_ECDSA_SIG(nullptr, &der, long(sig.size())),
                                                                &ECDSA_SIG_free);
    QByteArray raw(2 * half, '\0');
    auto *out = reinterpret_cast<unsigned char *>(raw.data());
    BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), out, half);
    BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), out + half, half);
    return raw;
}

QByteArray input(const QByteArray &headerJson, const QByteArray &payloadJson)
{
    return b64(headerJson) + '.' + b64(payloadJson);
}

QByteArray hsToken(const QByteArray &secret, const QByteArray &headerJson, const QByteArray &payloadJson,
                   const char *md = "SHA256")
{
    const QByteArray in = input(headerJson, payloadJson);
    return in + '.' + b64(hmac(md, secret, in));
}

PkeyPtr rsaKey(size_t bits)
{
    return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}

PkeyPtr ecKey(const char *curve)
{
    return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

const QByteArray kSecret = "a test secret that is long enough for HS512 too";

std::shared_ptr<const JwtVerifier> make(const JwtConfig &config)
{
    return JwtVerifier::create(config, nullptr);
}

std::shared_ptr<const JwtVerifier> withSecret(const QByteArray &secret = kSecret)
{
    return make({.secret = secret});
}

std::shared_ptr<const JwtVerifier> withPem(const QByteArray &pem)
{
    return make({.publicKeyPem = pem});
}

QString reasonOf(const JwtVerifier &verifier, const QByteArray &token, qint64 now = 1000)
{
    QString reason;
    const auto result = verifier.verify(token, now, &reason);
    return result ? u"ok"_s : reason;
}

} // namespace

class tst_Jwt : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void rfcA1Hs256();
    void rfcA2Rs256();
    void rfcA3Es256();
    void eachAlgorithm_data();
    void eachAlgorithm();
    void algNone();
    void hsRsConfusion();
    void curveMismatch();
    void otherFamilies();
    void kidIgnoredCritRefused();
    void pssSaltLength();
    void timeClaims_data();
    void timeClaims();
    void audience_data();
    void audience();
    void issuer();
    void sizeLimit();
    void malformed_data();
    void malformed();
    void signHs256RoundTrip();
    void createErrors();
    void mutations();

private:
    PkeyPtr m_rsa;
    PkeyPtr m_p256;
    PkeyPtr m_p384;
    PkeyPtr m_ed25519;
};

void tst_Jwt::initTestCase()
{
    m_rsa = rsaKey(2048);
    m_p256 = ecKey("P-256");
    m_p384 = ecKey("P-384");
    m_ed25519.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    QVERIFY(m_rsa && m_p256 && m_p384 && m_ed25519);
}

void tst_Jwt::rfcA1Hs256()
{
    const auto verifier = withSecret(unb64(kA1Key));
    QVERIFY(verifier && verifier->usesSecret());
    QString reason;
    const auto token = verifier->verify(kA1Token, kRfcExp - 100, &reason);
    QVERIFY2(token, qPrintable(reason));
    QCOMPARE(token->claims.value("iss"_L1).toString(), u"joe"_s);
    QCOMPARE(token->claims.value("http://example.com/is_root"_L1).toBool(), true);
    QCOMPARE(token->expiresAt, kRfcExp);
    QCOMPARE(token->subject, QString());
    QCOMPARE(reasonOf(*verifier, kA1Token, kRfcExp + 30), u"ok"_s); // default leeway 30 s
    QCOMPARE(reasonOf(*verifier, kA1Token, kRfcExp + 31), u"expired"_s);
    QCOMPARE(reasonOf(*withSecret(unb64(kA1Key) + 'x'), kA1Token, kRfcExp), u"bad signature"_s);
}

void tst_Jwt::rfcA2Rs256()
{
    const QByteArray pem = rfcRsaPem();
    QVERIFY(pem.startsWith("-----BEGIN PUBLIC KEY-----"));
    const auto verifier = withPem(pem);
    QVERIFY(verifier && !verifier->usesSecret());
    QCOMPARE(reasonOf(*verifier, kA2Token, kRfcExp), u"ok"_s);
    QCOMPARE(reasonOf(*verifier, kA2Token, kRfcExp + 31), u"expired"_s);
    QByteArray tampered = kA2Token;
    tampered[tampered.size() - 2] = tampered.at(tampered.size() - 2) == 'R' ? 'S' : 'R';
    QCOMPARE(reasonOf(*verifier, tampered, kRfcExp), u"bad signature"_s);
    // The same RFC signature under the HS256 header is not accepted by the RSA key.
    QCOMPARE(reasonOf(*verifier, kA1Token, kRfcExp), u"alg mismatch"_s);
}

void tst_Jwt::rfcA3Es256()
{
    const auto verifier = withPem(rfcEcPem());
    QVERIFY(verifier);
    QString reason;
    const auto token = verifier->verify(kA3Token, kRfcExp, &reason);
    QVERIFY2(token, qPrintable(reason));
    QCOMPARE(token->claims.value("iss"_L1).toString(), u"joe"_s);
    // Truncated, extended and swapped (s||r) signatures are refused.
    const QByteArray head = kA3Token.left(kA3Token.lastIndexOf('.') + 1);
    const QByteArray raw = unb64(kA3Token.mid(kA3Token.lastIndexOf('.') + 1));
    QCOMPARE(raw.size(), 64);
    QCOMPARE(reasonOf(*verifier, head + b64(raw.chopped(1)), kRfcExp), u"bad signature"_s);
    QCOMPARE(reasonOf(*verifier, head + b64(raw + '\0'), kRfcExp), u"bad signature"_s);
    QCOMPARE(reasonOf(*verifier, head + b64(raw.mid(32) + raw.left(32)), kRfcExp), u"bad signature"_s);
    QCOMPARE(reasonOf(*verifier, head + b64(QByteArray(64, '\0')), kRfcExp), u"bad signature"_s);
    QCOMPARE(reasonOf(*verifier, kA3Token.chopped(4), kRfcExp), u"malformed token"_s); // non-canonical tail
}

void tst_Jwt::eachAlgorithm_data()
{
    QTest::addColumn<QByteArray>("alg");
    for (const char *alg :
         {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}) {
        QTest::newRow(alg) << QByteArray(alg);
    }
}

void tst_Jwt::eachAlgorithm()
{
    QFETCH(QByteArray, alg);
    const QByteArray header = R"({"alg":")" + alg + R"(","typ":"JWT"})";
    const QByteArray payload = R"({"sub":"alice","exp":2000,"role":"player"})";
    const QByteArray in = input(header, payload);
    std::shared_ptr<const JwtVerifier> verifier;
    QByteArray signature;
    if (alg.startsWith("HS")) {
        verifier = withSecret();
        signature = hmac(QByteArray("SHA" + alg.mid(2)).constData(), kSecret, in);
    } else {
        EVP_PKEY *key = alg.startsWith("ES256")   ? m_p256.get()
                        : alg.startsWith("ES384") ? m_p384.get()
                        : alg == "EdDSA"          ? m_ed25519.get()
                                                  : m_rsa.get();
        verifier = withPem(pemOf(key));
        signature = signWith(key, alg, in);
    }
    QVERIFY(verifier);
    QVERIFY(!signature.isEmpty());
    const QByteArray token = in + '.' + b64(signature);
    QString reason;
    const auto verified = verifier->verify(token, 1000, &reason);
    QVERIFY2(verified, qPrintable(reason));
    QCOMPARE(verified->subject, u"alice"_s);
    QCOMPARE(verified->expiresAt, 2000);
    QCOMPARE(verified->claims.value("role"_L1).toString(), u"player"_s);

    // Tampered payload (same signature), flipped signature bit, truncated signature, empty signature.
    const QByteArray otherPayload = b64(R"({"sub":"mallory","exp":2000,"role":"player"})");
    QCOMPARE(reasonOf(*verifier, b64(header) + '.' + otherPayload + '.' + b64(signature)), u"bad signature"_s);
    QByteArray flipped = signature;
    flipped[flipped.size() / 2] = char(flipped.at(flipped.size() / 2) ^ 0x01);
    QCOMPARE(reasonOf(*verifier, in + '.' + b64(flipped)), u"bad signature"_s);
    QCOMPARE(reasonOf(*verifier, in + '.' + b64(signature.chopped(1))), u"bad signature"_s);
    QCOMPARE(reasonOf(*verifier, in + '.'), u"bad signature"_s);
}

void tst_Jwt::algNone()
{
    const QByteArray payload = R"({"sub":"alice"})";
    for (const auto &verifier : {withSecret(), withPem(pemOf(m_rsa.get())), withPem(pemOf(m_ed25519.get()))}) {
        QVERIFY(verifier);
        for (const QByteArray &header :
             {QByteArray(R"({"alg":"none"})"), QByteArray(R"({"alg":"none","typ":"JWT"})")}) {
            QCOMPARE(reasonOf(*verifier, input(header, payload) + '.'), u"alg mismatch"_s);
            QCOMPARE(reasonOf(*verifier, input(header, payload) + '.' + b64("anything")), u"alg mismatch"_s);
        }
        QCOMPARE(reasonOf(*verifier, input(R"({"alg":"None"})", payload) + ".c2ln"), u"unsupported alg"_s);
        QCOMPARE(reasonOf(*verifier, input(R"({"alg":"HS1"})", payload) + ".c2ln"), u"unsupported alg"_s);
    }
    // HS token with `alg: none` and a valid HMAC is still refused.
    const QByteArray in = input(R"({"alg":"none"})", payload);
    QCOMPARE(reasonOf(*withSecret(), in + '.' + b64(hmac("SHA256", kSecret, in))), u"alg mismatch"_s);
}

void tst_Jwt::hsRsConfusion()
{
    // An attacker who knows the public key HMACs a token with the PEM text as the secret.
    const QByteArray pem = pemOf(m_rsa.get());
    const auto verifier = withPem(pem);
    QVERIFY(verifier);
    const QByteArray payload = R"({"sub":"admin"})";
    QCOMPARE(reasonOf(*verifier, hsToken(pem, R"({"alg":"HS256","typ":"JWT"})", payload)), u"alg mismatch"_s);
    QCOMPARE(reasonOf(*verifier, hsToken(pem, R"({"alg":"HS512"})", payload, "SHA512")), u"alg mismatch"_s);
    // An RS256 token against a secret config is refused too.
    const QByteArray in = input(R"({"alg":"RS256"})", payload);
    QCOMPARE(reasonOf(*withSecret(), in + '.' + b64(signWith(m_rsa.get(), "RS256", in))), u"alg mismatch"_s);
}

void tst_Jwt::curveMismatch()
{
    const QByteArray payload = R"({"sub":"alice"})";
    const QByteArray in256 = input(R"({"alg":"ES256"})", payload);
    const QByteArray in384 = input(R"({"alg":"ES384"})", payload);
    // ES256 signed by the P-256 key, presented to a P-384 config (and the reverse).
    QCOMPARE(reasonOf(*withPem(pemOf(m_p384.get())), in256 + '.' + b64(signWith(m_p256.get(), "ES256", in256))),
             u"alg mismatch"_s);
    QCOMPARE(reasonOf(*withPem(pemOf(m_p256.get())), in384 + '.' + b64(signWith(m_p384.get(), "ES384", in384))),
             u"alg mismatch"_s);
    const QByteArray in512 = input(R"({"alg":"ES512"})", payload);
    QCOMPARE(reasonOf(*withPem(pemOf(m_p256.get())), in512 + '.' + b64(QByteArray(132, 'x'))), u"alg mismatch"_s);
}

void tst_Jwt::otherFamilies()
{
    const QByteArray payload = R"({"sub":"alice"})";
    const QByteArray inEd = input(R"({"alg":"EdDSA"})", payload);
    const QByteArray edToken = inEd + '.' + b64(signWith(m_ed25519.get(), "EdDSA", inEd));
    QCOMPARE(reasonOf(*withPem(pemOf(m_ed25519.get())), edToken), u"ok"_s);
    QCOMPARE(reasonOf(*withPem(pemOf(m_rsa.get())), edToken), u"alg mismatch"_s);
    QCOMPARE(reasonOf(*withPem(pemOf(m_p256.get())), edToken), u"alg mismatch"_s);
    QCOMPARE(reasonOf(*withSecret(), edToken), u"alg mismatch"_s);
    const QByteArray inRs = input(R"({"alg":"RS256"})", payload);
    const QByteArray rsToken = inRs + '.' + b64(signWith(m_rsa.get(), "RS256", inRs));
    QCOMPARE(reasonOf(*withPem(pemOf(m_p256.get())), rsToken), u"alg mismatch"_s);
    QCOMPARE(reasonOf(*withPem(pemOf(m_ed25519.get())), rsToken), u"alg mismatch"_s);
    // A valid RS256 signature presented as RS384 or PS256 does not verify.
    QByteArray relabeled = input(R"({"alg":"PS256"})", payload) + rsToken.mid(rsToken.lastIndexOf('.'));
    QCOMPARE(reasonOf(*withPem(pemOf(m_rsa.get())), relabeled), u"bad signature"_s);
}

void tst_Jwt::kidIgnoredCritRefused()
{
    const auto verifier = withSecret();
    const QByteArray payload = R"({"sub":"alice"})";
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, R"({"alg":"HS256","kid":"../../etc/passwd"})", payload)), u"ok"_s);
    QCOMPARE(reasonOf(*verifier, hsToken("other", R"({"alg":"HS256","kid":"other"})", payload)), u"bad signature"_s);
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, R"({"alg":"HS256","crit":["exp"],"exp":1})", payload)),
             u"malformed token"_s);
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, R"({"alg":"HS256","crit":[]})", payload)), u"malformed token"_s);
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, R"({"typ":"JWT"})", payload)), u"malformed token"_s);
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, R"({"alg":256})", payload)), u"malformed token"_s);
}

void tst_Jwt::pssSaltLength()
{
    // RFC 7518 3.5: the salt is as long as the hash. A PSS signature with another salt length is refused.
    const auto verifier = withPem(pemOf(m_rsa.get()));
    const QByteArray in = input(R"({"alg":"PS256"})", R"({"sub":"alice"})");
    QCOMPARE(reasonOf(*verifier, in + '.' + b64(signWith(m_rsa.get(), "PS256", in))), u"ok"_s);
    QCOMPARE(reasonOf(*verifier, in + '.' + b64(signWith(m_rsa.get(), "PS256", in, 20))), u"bad signature"_s);
    QCOMPARE(reasonOf(*verifier, in + '.' + b64(signWith(m_rsa.get(), "PS256", in, RSA_PSS_SALTLEN_MAX))),
             u"bad signature"_s);
}

void tst_Jwt::timeClaims_data()
{
    QTest::addColumn<QByteArray>("claims");
    QTest::addColumn<int>("leeway");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<QString>("expected");

    QTest::newRow("exp: at exp") << QByteArray(R"({"exp":1000})") << 30 << qint64(1000) << u"ok"_s;
    QTest::newRow("exp: at exp+leeway") << QByteArray(R"({"exp":1000})") << 30 << qint64(1030) << u"ok"_s;
    QTest::newRow("exp: one past") << QByteArray(R"({"exp":1000})") << 30 << qint64(1031) << u"expired"_s;
    QTest::newRow("exp: no leeway, at") << QByteArray(R"({"exp":1000})") << 0 << qint64(1000) << u"ok"_s;
    QTest::newRow("exp: no leeway, past") << QByteArray(R"({"exp":1000})") << 0 << qint64(1001) << u"expired"_s;
    QTest::newRow("exp: fractional") << QByteArray(R"({"exp":1000.5})") << 0 << qint64(1001) << u"expired"_s;
    QTest::newRow("nbf: at nbf-leeway") << QByteArray(R"({"nbf":1000})") << 30 << qint64(970) << u"ok"_s;
    QTest::newRow("nbf: one before") << QByteArray(R"({"nbf":1000})") << 30 << qint64(969) << u"not yet valid"_s;
    QTest::newRow("nbf: no leeway") << QByteArray(R"({"nbf":1000})") << 0 << qint64(999) << u"not yet valid"_s;
    QTest::newRow("iat: at iat-leeway") << QByteArray(R"({"iat":1000})") << 30 << qint64(970) << u"ok"_s;
    QTest::newRow("iat: one before") << QByteArray(R"({"iat":1000})") << 30 << qint64(969) << u"issued in the future"_s;
    QTest::newRow("iat: past is fine") << QByteArray(R"({"iat":1})") << 0 << qint64(1000) << u"ok"_s;
    QTest::newRow("all valid") << QByteArray(R"({"iat":990,"nbf":990,"exp":1010})") << 0 << qint64(1000) << u"ok"_s;
    QTest::newRow("huge exp") << QByteArray(R"({"exp":1e300})") << 30 << qint64(1000) << u"ok"_s;
    QTest::newRow("exp string") << QByteArray(R"({"exp":"2000"})") << 30 << qint64(1000) << u"malformed token"_s;
    QTest::newRow("nbf bool") << QByteArray(R"({"nbf":true})") << 30 << qint64(1000) << u"malformed token"_s;
    QTest::newRow("iat null") << QByteArray(R"({"iat":null})") << 30 << qint64(1000) << u"malformed token"_s;
    QTest::newRow("sub number") << QByteArray(R"({"sub":5})") << 30 << qint64(1000) << u"malformed token"_s;
    QTest::newRow("payload array") << QByteArray("[1,2]") << 30 << qint64(1000) << u"malformed token"_s;
    QTest::newRow("payload not json") << QByteArray("exp=1") << 30 << qint64(1000) << u"malformed token"_s;
}

void tst_Jwt::timeClaims()
{
    QFETCH(QByteArray, claims);
    QFETCH(int, leeway);
    QFETCH(qint64, now);
    QFETCH(QString, expected);
    const auto verifier = make({.secret = kSecret, .leewaySeconds = leeway});
    QVERIFY(verifier);
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, R"({"alg":"HS256"})", claims), now), expected);
}

void tst_Jwt::audience_data()
{
    QTest::addColumn<QString>("configured");
    QTest::addColumn<QByteArray>("claims");
    QTest::addColumn<QString>("expected");
    QTest::newRow("string") << u"game"_s << QByteArray(R"({"aud":"game"})") << u"ok"_s;
    QTest::newRow("array") << u"game"_s << QByteArray(R"({"aud":["web","game"]})") << u"ok"_s;
    QTest::newRow("other string") << u"game"_s << QByteArray(R"({"aud":"games"})") << u"wrong audience"_s;
    QTest::newRow("array without") << u"game"_s << QByteArray(R"({"aud":["web"]})") << u"wrong audience"_s;
    QTest::newRow("empty array") << u"game"_s << QByteArray(R"({"aud":[]})") << u"wrong audience"_s;
    QTest::newRow("missing") << u"game"_s << QByteArray(R"({"sub":"a"})") << u"wrong audience"_s;
    QTest::newRow("not a string") << u"game"_s << QByteArray(R"({"aud":{"game":1}})") << u"wrong audience"_s;
    QTest::newRow("not configured") << QString() << QByteArray(R"({"aud":"anything"})") << u"ok"_s;
}

void tst_Jwt::audience()
{
    QFETCH(QString, configured);
    QFETCH(QByteArray, claims);
    QFETCH(QString, expected);
    QCOMPARE(
        reasonOf(*make({.secret = kSecret, .audience = configured}), hsToken(kSecret, R"({"alg":"HS256"})", claims)),
        expected);
}

void tst_Jwt::issuer()
{
    const auto verifier = make({.secret = kSecret, .issuer = u"urn:wsserve:host"_s});
    const QByteArray header = R"({"alg":"HS256"})";
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, header, R"({"iss":"urn:wsserve:host"})")), u"ok"_s);
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, header, R"({"iss":"urn:wsserve:host/"})")), u"wrong issuer"_s);
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, header, R"({"iss":["urn:wsserve:host"]})")), u"wrong issuer"_s);
    QCOMPARE(reasonOf(*verifier, hsToken(kSecret, header, R"({"sub":"a"})")), u"wrong issuer"_s);
    QCOMPARE(reasonOf(*withSecret(), hsToken(kSecret, header, R"({"iss":"anyone"})")), u"ok"_s);
}

void tst_Jwt::sizeLimit()
{
    const auto verifier = withSecret();
    QByteArray largest;
    for (int pad = 2900; pad < 3100; ++pad) {
        const QByteArray token = hsToken(kSecret, R"({"alg":"HS256"})", R"({"pad":")" + QByteArray(pad, 'p') + "\"}");
        if (token.size() <= kMaxTokenBytes) {
            largest = token;
        } else {
            QCOMPARE(reasonOf(*verifier, token), u"token over 4 KiB"_s);
        }
    }
    QVERIFY(largest.size() >= kMaxTokenBytes - 3);
    QCOMPARE(reasonOf(*verifier, largest), u"ok"_s);
    QCOMPARE(reasonOf(*verifier, QByteArray(kMaxTokenBytes + 1, '.')), u"token over 4 KiB"_s);
    QCOMPARE(reasonOf(*verifier, QByteArray(kMaxTokenBytes, 'A')), u"malformed token"_s);
}

void tst_Jwt::malformed_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QString>("expected");
    const QByteArray good = hsToken(kSecret, R"({"alg":"HS256"})", R"({"sub":"alice"})");
    const QList<QByteArray> parts = good.split('.');
    QTest::newRow("the good one") << good << u"ok"_s;
    QTest::newRow("empty") << QByteArray() << u"missing token"_s;
    QTest::newRow("two parts") << parts[0] + '.' + parts[1] << u"malformed token"_s;
    QTest::newRow("four parts") << good + ".AAAA" << u"malformed token"_s;
    QTest::newRow("only dots") << QByteArray("..") << u"malformed token"_s;
    QTest::newRow("empty header") << '.' + parts[1] + '.' + parts[2] << u"malformed token"_s;
    QTest::newRow("empty payload") << parts[0] + ".." + parts[2] << u"malformed token"_s;
    QTest::newRow("bad base64 char") << parts[0] + ".*" + parts[1] + '.' + parts[2] << u"malformed token"_s;
    QTest::newRow("standard base64 '+'") << parts[0] + '.' + parts[1] + "+." + parts[2] << u"malformed token"_s;
    QTest::newRow("padding") << good + '=' << u"malformed token"_s;
    QTest::newRow("padded header") << b64(R"({"alg":"HS256"})") + "=." + parts[1] + '.' + parts[2]
                                   << u"malformed token"_s;
    QTest::newRow("space inside") << parts[0] + ". " + parts[1] + '.' + parts[2] << u"malformed token"_s;
    QTest::newRow("trailing newline") << good + '\n' << u"malformed token"_s;
    QTest::newRow("leading space") << ' ' + good << u"malformed token"_s;
    QTest::newRow("bearer prefix") << "Bearer " + good << u"malformed token"_s;
    QTest::newRow("length 4n+1") << parts[0] + '.' + parts[1] + "A." + parts[2] << u"malformed token"_s;
    QTest::newRow("nul byte") << parts[0] + '.' + parts[1] + QByteArray(1, '\0') + '.' + parts[2]
                              << u"malformed token"_s;
    // "e30" and "e31" both decode to "{}"; only the canonical spelling (zero trailing bits) is accepted.
    QTest::newRow("non-canonical") << b64(R"({"alg":"HS256"})") + '.' + "e31." + parts[2] << u"malformed token"_s;
    QTest::newRow("header array") << b64("[\"HS256\"]") + '.' + parts[1] + '.' + parts[2] << u"malformed token"_s;
    QTest::newRow("header not json") << b64("alg=HS256") + '.' + parts[1] + '.' + parts[2] << u"malformed token"_s;
    QTest::newRow("header trailing junk")
        << b64(R"({"alg":"HS256"}x)") + '.' + parts[1] + '.' + parts[2] << u"malformed token"_s;
}

void tst_Jwt::malformed()
{
    QFETCH(QByteArray, token);
    QFETCH(QString, expected);
    QCOMPARE(reasonOf(*withSecret(), token), expected);
}

void tst_Jwt::signHs256RoundTrip()
{
    const QJsonObject claims{{u"sub"_s, u"bob"_s}, {u"exp"_s, 5000}, {u"aud"_s, QJsonArray{u"game"_s}}, {u"seat"_s, 2}};
    const QByteArray token = signHs256(kSecret, claims);
    const QList<QByteArray> parts = token.split('.');
    QCOMPARE(parts.size(), 3);
    QCOMPARE(unb64(parts[0]), QByteArray(R"({"alg":"HS256","typ":"JWT"})"));
    QCOMPARE(unb64(parts[1]), QJsonDocument(claims).toJson(QJsonDocument::Compact));
    QVERIFY(!token.contains('='));
    // The signature checked with the test's own HMAC, independently of the verifier.
    QCOMPARE(unb64(parts[2]), hmac("SHA256", kSecret, parts[0] + '.' + parts[1]));
    QString reason;
    const auto verified = make({.secret = kSecret, .audience = u"game"_s})->verify(token, 4000, &reason);
    QVERIFY2(verified, qPrintable(reason));
    QCOMPARE(verified->subject, u"bob"_s);
    QCOMPARE(verified->expiresAt, 5000);
    QCOMPARE(verified->claims, claims);
    QCOMPARE(reasonOf(*withSecret("another secret"), token, 4000), u"bad signature"_s);
}

void tst_Jwt::createErrors()
{
    auto errorOf = [](const QByteArray &secret, const QByteArray &pem, int leeway = 30) {
        QString error;
        const auto verifier =
            JwtVerifier::create({.secret = secret, .publicKeyPem = pem, .leewaySeconds = leeway}, &error);
        return verifier ? u"ok"_s : error;
    };
    const QByteArray rsaPem = pemOf(m_rsa.get());
    QCOMPARE(errorOf("s", QByteArray()), u"ok"_s); // any non-empty secret is accepted (documented)
    QCOMPARE(errorOf(kSecret, rsaPem), u"set jwt_secret or jwt_public_key, not both"_s);
    QCOMPARE(errorOf(QByteArray(), QByteArray()), u"set jwt_secret or jwt_public_key"_s);
    QVERIFY(errorOf(kSecret, QByteArray(), -1).contains("leeway"_L1));
    QVERIFY(errorOf(QByteArray(), "not a pem").startsWith("jwt_public_key is not a PEM public key"_L1));
    QVERIFY(errorOf(QByteArray(), rsaPem.left(rsaPem.size() / 2)).startsWith("jwt_public_key is not a PEM"_L1));

    // A private key is not a public key.
    QVERIFY(errorOf(QByteArray(), pemOf(m_p256.get(), true)).startsWith("jwt_public_key is not a PEM"_L1));

    QVERIFY(errorOf(QByteArray(), pemOf(rsaKey(1024).get())).contains("2048"_L1));
    QVERIFY(errorOf(QByteArray(), pemOf(ecKey("P-521").get())).contains("curve"_L1));
    const PkeyPtr ed448(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
    QVERIFY(errorOf(QByteArray(), pemOf(ed448.get())).contains("unsupported key type"_L1));
    QCOMPARE(errorOf(QByteArray(), rsaPem), u"ok"_s);
    QCOMPARE(errorOf(QByteArray(), rfcEcPem()), u"ok"_s);
    QCOMPARE(ERR_peek_error(), 0UL); // refused keys leave nothing on the OpenSSL error queue
}

void tst_Jwt::mutations()
{
    // Thousands of mutated tokens: nothing crashes, and no token other than the original verifies
    // (the strict base64url decoding gives every token a single spelling).
    struct Case {
        std::shared_ptr<const JwtVerifier> verifier;
        QByteArray token;
    };
    QList<Case> cases;
    const QByteArray payload = R"({"sub":"alice","exp":2000,"aud":["game"]})";
    cases.append({withSecret(), hsToken(kSecret, R"({"alg":"HS256"})", payload)});
    for (auto [key, alg] :
         {std::pair{m_p256.get(), "ES256"}, std::pair{m_ed25519.get(), "EdDSA"}, std::pair{m_rsa.get(), "RS256"}}) {
        const QByteArray in = input(R"({"alg":")" + QByteArray(alg) + "\"}", payload);
        cases.append({withPem(pemOf(key)), in + '.' + b64(signWith(key, alg, in))});
    }
    QRandomGenerator rng(17);
    const QByteArray alphabet =
        QByteArray("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \xff") + '\0';
    int verified = 0;
    for (int i = 0; i < 4000; ++i) {
        const Case &c = cases.at(i % cases.size());
        QByteArray token = c.token;
        const int edits = 1 + int(rng.bounded(4));
        for (int e = 0; e < edits && !token.isEmpty(); ++e) {
            const qsizetype at = rng.bounded(int(token.size()));
            const char ch = alphabet.at(rng.bounded(int(alphabet.size())));
            switch (rng.bounded(5)) {
            case 0:
                token[at] = ch;
                break;
            case 1:
                token.insert(at, ch);
                break;
            case 2:
                token.remove(at, 1 + rng.bounded(8));
                break;
            case 3:
                token.truncate(at);
                break;
            default:
                token[at] = char(token.at(at) ^ (1 << rng.bounded(8)));
                break;
            }
        }
        QString reason;
        const auto result = c.verifier->verify(token, 1000, &reason);
        if (token == c.token) {
            QVERIFY(result);
            ++verified;
        } else {
            QVERIFY2(!result, token.constData());
            QVERIFY(!reason.isEmpty());
        }
    }
    // Random garbage, and random bytes wrapped as three segments.
    for (int i = 0; i < 2000; ++i) {
        QByteArray junk(rng.bounded(200), Qt::Uninitialized);
        for (char &ch : junk) {
            ch = char(rng.bounded(256));
        }
        const QByteArray wrapped = b64(junk.left(junk.size() / 3)) + '.' + b64(junk.mid(junk.size() / 3)) + '.' +
                                   b64(junk.right(junk.size() / 4));
        for (const Case &c : cases) {
            QVERIFY(!c.verifier->verify(junk, 1000, nullptr));
            QVERIFY(!c.verifier->verify(wrapped, 1000, nullptr));
        }
    }
    qInfo() << "unchanged tokens among the mutations:" << verified;
}

QTEST_GUILESS_MAIN(tst_Jwt)
#include "tst_jwt.moc"
