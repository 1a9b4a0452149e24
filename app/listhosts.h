// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

namespace wsserve::web {
class HostBrowser;
}

namespace wsserve {

// `wsserve --list-hosts`: browses for `_wsserve._tcp` for `seconds`, then prints one line per host seen
// (name, address:port, ids=..., types=..., URL of its index page; tab-separated; "this-machine" last
// when the host is this machine) and returns 0. Returns 1 when the Avahi daemon could not be reached,
// 2 in a build without Avahi. Runs the event loop; needs a Q(Core)Application.
int runListHosts(web::HostBrowser &browser, int seconds);

} // namespace wsserve
