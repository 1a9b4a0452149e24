// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QString>

namespace wsserve {

// Which web pages may open a socket to an instance: its `check_origin` option, applied to the upgrade's
// Origin header (phoenix-protocol.md 7.3). Only browsers send Origin; a request without one always
// passes. Policies:
//   "host"  (default) the Origin's host must be the host the client asked for (its Host header, without
//           the port), as Phoenix does by default;
//   "any"   every Origin passes;
//   a space-separated list of allowed origins, each "[scheme://]host[:port]" where host may be
//           "*.example.com" (which also matches example.com itself).
// Thread: any; pure functions.

// An empty string when `policy` is well-formed, else what is wrong with it.
QString validateOriginPolicy(const QString &policy);
// Whether a request with this Origin header value (empty: none sent) and Host header may connect; when
// not, *why says so in a sentence a person can act on.
bool originAllowed(const QString &policy, const QString &origin, const QString &hostHeader, QString *why);

} // namespace wsserve
