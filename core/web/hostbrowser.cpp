// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "hostbrowser.h"

#include "announcer.h"
#include "logging.h"

#include <QSignalBlocker>
#include <QUrl>

#include <algorithm>
#include <map>
#include <tuple>

#ifdef WSSERVE_HAVE_AVAHI
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>
#endif

namespace wsserve::web {

namespace {

constexpr qsizetype kMaxListEntries = 100;

QStringList splitList(const QByteArray &value)
{
    QStringList result;
    for (const QByteArray &part : value.split(',')) {
        if (!part.isEmpty() && result.size() < kMaxListEntries) {
            result.append(QString::fromUtf8(part));
        }
    }
    return result;
}

QString withoutScope(QHostAddress address)
{
    address.setScopeId(QString());
    return address.toString();
}

} // namespace

QString DiscoveredHost::url() const
{
    QUrl result;
    result.setScheme(QStringLiteral("http"));
    result.setHost(address.isNull() ? hostName : withoutScope(address));
    result.setPort(port);
    result.setPath(path.startsWith(u'/') ? path : QStringLiteral("/") + path);
    return result.toString();
}

QString DiscoveredHost::line() const
{
    const QString where = address.protocol() == QAbstractSocket::IPv6Protocol
                              ? QStringLiteral("[%1]:%2").arg(withoutScope(address)).arg(port)
                              : QStringLiteral("%1:%2").arg(address.toString()).arg(port);
    return QStringLiteral("%1\t%2\tids=%3\ttypes=%4\t%5").arg(name, where, ids.join(u','), types.join(u','), url());
}

void DiscoveredHost::readTxt(const QList<QByteArray> &txt)
{
    for (const QByteArray &entry : txt) {
        const qsizetype equals = entry.indexOf('=');
        if (equals <= 0) {
            continue;
        }
        const QByteArray key = entry.left(equals).toLower();
        const QByteArray value = entry.mid(equals + 1);
        if (key == "version") {
            version = QString::fromUtf8(value).left(64);
        } else if (key == "path" && value.startsWith('/')) {
            path = QString::fromUtf8(value);
        } else if (key == "socket" && value.startsWith('/')) {
            socket = QString::fromUtf8(value);
        } else if (key == "ids") {
            ids = splitList(value);
        } else if (key == "types") {
            types = splitList(value);
        }
    }
}

#ifdef WSSERVE_HAVE_AVAHI
struct HostBrowser::Private {
    HostBrowser *q = nullptr;
    quint64 generation = 0; // fixed while the poll thread runs
    AvahiThreadedPoll *poll = nullptr;
    AvahiClient *client = nullptr;
    AvahiServiceBrowser *browser = nullptr;
    // Touched only on Avahi's thread (or before it starts / after it stopped).
    std::map<std::tuple<int, int, QByteArray>, AvahiServiceResolver *> resolvers;

    void post(auto call) { QMetaObject::invokeMethod(q, std::move(call), Qt::QueuedConnection); }
    void dropLookups()
    {
        for (auto &entry : resolvers) {
            avahi_service_resolver_free(entry.second);
        }
        resolvers.clear();
        if (browser) {
            avahi_service_browser_free(browser);
            browser = nullptr;
        }
    }
    void startBrowser();

    static void clientChanged(AvahiClient *client, AvahiClientState state, void *self);
    static void browserEvent(AvahiServiceBrowser *, AvahiIfIndex interface, AvahiProtocol protocol,
                             AvahiBrowserEvent event, const char *name, const char *type, const char *domain,
                             AvahiLookupResultFlags, void *self);
    static void resolverEvent(AvahiServiceResolver *resolver, AvahiIfIndex interface, AvahiProtocol protocol,
                              AvahiResolverEvent event, const char *name, const char *type, const char *domain,
                              const char *hostName, const AvahiAddress *address, uint16_t port, AvahiStringList *txt,
                              AvahiLookupResultFlags flags, void *self);
};

void HostBrowser::Private::startBrowser()
{
    if (browser) {
        return;
    }
    browser = avahi_service_browser_new(client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, Announcer::kServiceType, nullptr,
                                        AvahiLookupFlags(0), &Private::browserEvent, this);
    const quint64 gen = generation;
    HostBrowser *owner = q;
    if (!browser) {
        const QString why =
            QStringLiteral("cannot browse: %1").arg(QString::fromUtf8(avahi_strerror(avahi_client_errno(client))));
        post([owner, gen, why] { owner->setConnected(gen, false, why); });
        return;
    }
    post([owner, gen] { owner->setConnected(gen, true, QString()); });
}

void HostBrowser::Private::clientChanged(AvahiClient *client, AvahiClientState state, void *self)
{
    auto *d = static_cast<Private *>(self);
    d->client = client; // called from inside avahi_client_new too, before it returns
    HostBrowser *owner = d->q;
    const quint64 gen = d->generation;
    switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
    case AVAHI_CLIENT_S_REGISTERING:
    case AVAHI_CLIENT_S_COLLISION:
        d->startBrowser();
        break;
    case AVAHI_CLIENT_CONNECTING: // the daemon is gone (or not there yet): what was seen is stale
        d->dropLookups();
        qCWarning(lcCore) << "browse: the Avahi daemon is not running; looking for hosts once it is";
        d->post([owner, gen] {
            owner->setConnected(gen, false,
                                QStringLiteral("waiting for the Avahi daemon (avahi-daemon is not running)"));
        });
        break;
    case AVAHI_CLIENT_FAILURE: {
        d->dropLookups();
        const QString why =
            QStringLiteral("Avahi failed: %1").arg(QString::fromUtf8(avahi_strerror(avahi_client_errno(client))));
        qCWarning(lcCore).noquote() << "browse:" << why;
        d->post([owner, gen, why] { owner->setConnected(gen, false, why); });
        break;
    }
    }
}

void HostBrowser::Private::browserEvent(AvahiServiceBrowser *, AvahiIfIndex interface, AvahiProtocol protocol,
                                        AvahiBrowserEvent event, const char *name, const char *type, const char *domain,
                                        AvahiLookupResultFlags, void *self)
{
    auto *d = static_cast<Private *>(self);
    HostBrowser *owner = d->q;
    const quint64 gen = d->generation;
    switch (event) {
    case AVAHI_BROWSER_NEW: {
        const auto key = std::make_tuple(int(interface), int(protocol), QByteArray(name));
        if (d->resolvers.count(key) != 0) {
            break;
        }
        // The resolver stays while the service does: it reports changed TXT records (new instances) too.
        AvahiServiceResolver *resolver =
            avahi_service_resolver_new(d->client, interface, protocol, name, type, domain, AVAHI_PROTO_UNSPEC,
                                       AvahiLookupFlags(0), &Private::resolverEvent, d);
        if (!resolver) {
            qCWarning(lcCore).noquote() << "browse: cannot resolve" << QString::fromUtf8(name) << ":"
                                        << avahi_strerror(avahi_client_errno(d->client));
            break;
        }
        d->resolvers.emplace(key, resolver);
        break;
    }
    case AVAHI_BROWSER_REMOVE: {
        const auto it = d->resolvers.find(std::make_tuple(int(interface), int(protocol), QByteArray(name)));
        if (it != d->resolvers.end()) {
            avahi_service_resolver_free(it->second);
            d->resolvers.erase(it);
        }
        const QString service = QString::fromUtf8(name);
        d->post([owner, gen, service, interface, protocol] { owner->removed(gen, service, interface, protocol); });
        break;
    }
    case AVAHI_BROWSER_FAILURE: {
        const QString why =
            QStringLiteral("browsing failed: %1").arg(QString::fromUtf8(avahi_strerror(avahi_client_errno(d->client))));
        d->post([owner, gen, why] { owner->setConnected(gen, false, why); });
        break;
    }
    case AVAHI_BROWSER_ALL_FOR_NOW:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
        break;
    }
}

void HostBrowser::Private::resolverEvent(AvahiServiceResolver *, AvahiIfIndex interface, AvahiProtocol protocol,
                                         AvahiResolverEvent event, const char *name, const char *, const char *,
                                         const char *hostName, const AvahiAddress *address, uint16_t port,
                                         AvahiStringList *txt, AvahiLookupResultFlags flags, void *self)
{
    auto *d = static_cast<Private *>(self);
    if (event != AVAHI_RESOLVER_FOUND) {
        // Not answered in time: the browser reports it again if it comes back; keep the resolver (freed
        // with the service's REMOVE or at stop()) so a late answer still counts.
        qCDebug(lcCore).noquote() << "browse: cannot resolve" << QString::fromUtf8(name) << ":"
                                  << avahi_strerror(avahi_client_errno(d->client));
        return;
    }
    DiscoveredHost host;
    host.name = QString::fromUtf8(name);
    host.hostName = QString::fromUtf8(hostName ? hostName : "");
    if (address) {
        char text[AVAHI_ADDRESS_STR_MAX];
        avahi_address_snprint(text, sizeof text, address);
        host.address = QHostAddress(QString::fromLatin1(text));
    }
    host.port = port;
    QList<QByteArray> records;
    for (AvahiStringList *item = txt; item; item = avahi_string_list_get_next(item)) {
        records.append(QByteArray(reinterpret_cast<const char *>(avahi_string_list_get_text(item)),
                                  static_cast<qsizetype>(avahi_string_list_get_size(item))));
    }
    host.readTxt(records);
    host.own = (flags & (AVAHI_LOOKUP_RESULT_LOCAL | AVAHI_LOOKUP_RESULT_OUR_OWN)) != 0;
    host.interfaceIndex = interface;
    host.protocol = protocol;
    HostBrowser *owner = d->q;
    const quint64 gen = d->generation;
    d->post([owner, gen, host] { owner->found(gen, host); });
}

bool HostBrowser::isAvailable()
{
    return true;
}

void HostBrowser::start()
{
    if (m_browsing) {
        return;
    }
    d->q = this;
    d->generation = ++m_generation;
    d->poll = avahi_threaded_poll_new();
    if (!d->poll) {
        setStatus(QStringLiteral("cannot start Avahi's poll thread"));
        return;
    }
    int error = 0;
    d->client = avahi_client_new(avahi_threaded_poll_get(d->poll), AVAHI_CLIENT_NO_FAIL, &Private::clientChanged,
                                 d.get(), &error);
    if (!d->client) { // e.g. no system bus to reach the daemon through
        avahi_threaded_poll_free(d->poll);
        d->poll = nullptr;
        setStatus(
            error == AVAHI_ERR_NO_DAEMON
                ? QStringLiteral("cannot look for hosts: the Avahi daemon cannot be reached (is avahi-daemon "
                                 "running?)")
                : QStringLiteral("cannot look for hosts: Avahi: %1").arg(QString::fromUtf8(avahi_strerror(error))));
        return;
    }
    avahi_threaded_poll_start(d->poll);
    m_browsing = true;
    qCInfo(lcCore) << "browse: looking for" << Announcer::kServiceType << "hosts on this network";
    emit browsingChanged(true);
}

void HostBrowser::stop()
{
    if (d->poll) {
        avahi_threaded_poll_stop(d->poll); // joins Avahi's thread: no callback runs after this
        d->dropLookups();
        if (d->client) {
            avahi_client_free(d->client);
            d->client = nullptr;
        }
        avahi_threaded_poll_free(d->poll);
        d->poll = nullptr;
    }
    ++m_generation; // what is still queued from that browse is dropped
    m_connected = false;
    setStatus(QString());
    const bool had = !m_hosts.isEmpty();
    m_hosts.clear();
    if (had) {
        emit hostsChanged();
    }
    if (m_browsing) {
        m_browsing = false;
        emit browsingChanged(false);
    }
}
#else
struct HostBrowser::Private {};
bool HostBrowser::isAvailable()
{
    return false;
}
void HostBrowser::start()
{
    setStatus(QStringLiteral("this build has no DNS-SD (built without Avahi): other hosts cannot be listed"));
}
void HostBrowser::stop() {}
#endif

HostBrowser::HostBrowser(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{}

HostBrowser::~HostBrowser()
{
    const QSignalBlocker quiet(this);
    stop();
}

void HostBrowser::found(quint64 generation, const DiscoveredHost &host)
{
    if (generation != m_generation) {
        return;
    }
    const auto same = std::find_if(m_hosts.begin(), m_hosts.end(),
                                   [&host](const DiscoveredHost &known) { return known.sameService(host); });
    if (same != m_hosts.end()) {
        *same = host;
    } else {
        m_hosts.append(host);
    }
    std::stable_sort(m_hosts.begin(), m_hosts.end(), [](const DiscoveredHost &a, const DiscoveredHost &b) {
        return std::make_tuple(a.name, a.address.toString(), a.interfaceIndex) <
               std::make_tuple(b.name, b.address.toString(), b.interfaceIndex);
    });
    emit hostsChanged();
}

void HostBrowser::removed(quint64 generation, const QString &name, int interfaceIndex, int protocol)
{
    if (generation != m_generation) {
        return;
    }
    const qsizetype before = m_hosts.size();
    m_hosts.removeIf([&](const DiscoveredHost &known) {
        return known.name == name && known.interfaceIndex == interfaceIndex && known.protocol == protocol;
    });
    if (m_hosts.size() != before) {
        emit hostsChanged();
    }
}

void HostBrowser::setConnected(quint64 generation, bool connected, const QString &status)
{
    if (generation != m_generation) {
        return;
    }
    m_connected = connected;
    if (!connected && !m_hosts.isEmpty()) {
        m_hosts.clear();
        emit hostsChanged();
    }
    setStatus(status);
}

void HostBrowser::setStatus(const QString &status)
{
    if (status != m_status) {
        m_status = status;
        emit statusChanged(status);
    }
}

} // namespace wsserve::web
