// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The config-file loader (parseServerConfigJson, what loadServerConfigFile runs on the file's bytes) and
// the two string parsers it and the command line share: parseInstanceSpec (--instance) and
// parseBindAddress (--bind, "bind", "admin_bind"). Invariants: a refusal always says why and leaves the
// config untouched; an accepted spec has a non-empty id and type.
#include "fuzzsupport.h"

#include "config/serverconfig.h"

using namespace wsserve;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::wrap(data, size);

    ServerConfig config;
    config.port = 1234;
    QString error;
    if (!parseServerConfigJson(input, &config, &error)) {
        WSSERVE_FUZZ_CHECK(!error.isEmpty());
        WSSERVE_FUZZ_CHECK(config.port == 1234 && config.instances.isEmpty());
    }

    const QString text = QString::fromUtf8(input);
    InstanceSpec spec;
    error.clear();
    if (parseInstanceSpec(text, &spec, &error)) {
        WSSERVE_FUZZ_CHECK(!spec.id.isEmpty() && !spec.type.isEmpty());
    } else {
        WSSERVE_FUZZ_CHECK(!error.isEmpty());
    }

    QHostAddress address;
    error.clear();
    if (parseBindAddress(text, &address, &error)) {
        WSSERVE_FUZZ_CHECK(!address.isNull());
    } else {
        WSSERVE_FUZZ_CHECK(!error.isEmpty() && address.isNull());
    }
    return 0;
}
