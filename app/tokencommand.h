// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QStringList>

namespace wsserve {

// `wsserve token --instance-secret S --sub ID [--name N] [--topics P,...] [--ttl S] [--audience A]
// [--issuer I]`: prints an HS256 player token for an auth=jwt instance using that secret, for scripts.
// `arguments` are the whole command line (program, "token", options). Returns the exit code: 0 with the
// token on stdout, 2 with a message on stderr for bad or missing arguments.
int runTokenCommand(const QStringList &arguments);

} // namespace wsserve
