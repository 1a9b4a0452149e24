// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QJsonObject>

namespace wsserve {

// Decodes a URL query the way Plug does for Phoenix (phoenix-protocol.md 1.1): each key and value is
// percent-decoded (a '+' is a space), then bracketed keys nest: `user[id]=5` -> {"user":{"id":"5"}},
// `tags[0]=x` -> {"tags":{"0":"x"}}, `list[]=a&list[]=b` -> {"list":["a","b"]}. Every value is a string.
// Empty segments (the JS client's `&&` for null) are skipped. Later keys win over earlier ones.
// Thread: any; no state.
QJsonObject parseQueryParams(const QByteArray &query);

// Percent-decodes one component; '+' becomes a space when plusIsSpace is true.
QByteArray percentDecode(const QByteArray &input, bool plusIsSpace = true);

} // namespace wsserve
