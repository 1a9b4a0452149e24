// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "announcer.h"

#include "logging.h"

#ifdef WSSERVE_HAVE_AVAHI
#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>
#endif

namespace wsserve::web {

#ifdef WSSERVE_HAVE_AVAHI
struct Announcer::Private {
    AvahiThreadedPoll *poll = nullptr;
    AvahiClient *client = nullptr;
    AvahiEntryGroup *group = nullptr;
    // What to publish; read and written under the poll's lock.
    bool wanted = false;
    QByteArray name;
    quint16 port = 0;
    QList<QByteArray> txt;

    void commit(); // under the poll lock (or from an Avahi callback)
    static void clientChanged(AvahiClient *client, AvahiClientState state, void *self);
    static void groupChanged(AvahiEntryGroup *group, AvahiEntryGroupState state, void *self);
};

void Announcer::Private::commit()
{
    if (!client || avahi_client_get_state(client) != AVAHI_CLIENT_S_RUNNING) {
        return; // clientChanged() commits once the daemon is there
    }
    if (group) {
        avahi_entry_group_reset(group);
    }
    if (!wanted) {
        return;
    }
    if (!group) {
        group = avahi_entry_group_new(client, &Private::groupChanged, this);
        if (!group) {
            qCWarning(lcCore).noquote() << "announce: cannot create an Avahi entry group:"
                                        << avahi_strerror(avahi_client_errno(client));
            return;
        }
    }
    AvahiStringList *list = nullptr;
    for (auto it = txt.crbegin(); it != txt.crend(); ++it) {
        list = avahi_string_list_add_arbitrary(list, reinterpret_cast<const uint8_t *>(it->constData()),
                                               static_cast<size_t>(it->size()));
    }
    const int error =
        avahi_entry_group_add_service_strlst(group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, AvahiPublishFlags(0),
                                             name.constData(), kServiceType, nullptr, nullptr, port, list);
    avahi_string_list_free(list);
    if (error == AVAHI_ERR_COLLISION) {
        char *alternative = avahi_alternative_service_name(name.constData());
        name = alternative;
        avahi_free(alternative);
        commit();
        return;
    }
    if (error < 0 || avahi_entry_group_commit(group) < 0) {
        qCWarning(lcCore).noquote() << "announce: cannot publish" << kServiceType << ":" << avahi_strerror(error);
        return;
    }
    qCInfo(lcCore).noquote() << "announce: publishing" << QString::fromUtf8(name) << kServiceType << "on port" << port;
}

void Announcer::Private::clientChanged(AvahiClient *client, AvahiClientState state, void *self)
{
    auto *d = static_cast<Private *>(self);
    d->client = client; // called from inside avahi_client_new too, before it returns
    switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
        d->commit();
        break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
        if (d->group) {
            avahi_entry_group_reset(d->group);
        }
        break;
    case AVAHI_CLIENT_CONNECTING:
        qCWarning(lcCore) << "announce: the Avahi daemon is not running; announcing once it is";
        break;
    case AVAHI_CLIENT_FAILURE:
        qCWarning(lcCore).noquote() << "announce: Avahi failed:" << avahi_strerror(avahi_client_errno(client));
        break;
    }
}

void Announcer::Private::groupChanged(AvahiEntryGroup *, AvahiEntryGroupState state, void *self)
{
    auto *d = static_cast<Private *>(self);
    if (state == AVAHI_ENTRY_GROUP_COLLISION) { // another host has the name: take "name #2"
        char *alternative = avahi_alternative_service_name(d->name.constData());
        d->name = alternative;
        avahi_free(alternative);
        d->commit();
    }
}

Announcer::Announcer()
    : d(std::make_unique<Private>())
{}

Announcer::~Announcer()
{
    if (d->poll) {
        avahi_threaded_poll_stop(d->poll);
    }
    if (d->client) {
        avahi_client_free(d->client); // frees the group too
    }
    if (d->poll) {
        avahi_threaded_poll_free(d->poll);
    }
}

bool Announcer::isAvailable()
{
    return true;
}

void Announcer::publish(const QString &name, quint16 port, const QList<QByteArray> &txt)
{
    if (!d->poll) {
        d->poll = avahi_threaded_poll_new();
        if (!d->poll) {
            qCWarning(lcCore) << "announce: cannot start Avahi's poll thread";
            return;
        }
        int error = 0;
        d->client = avahi_client_new(avahi_threaded_poll_get(d->poll), AVAHI_CLIENT_NO_FAIL, &Private::clientChanged,
                                     d.get(), &error);
        if (!d->client) {
            qCWarning(lcCore).noquote() << "announce: cannot use Avahi:" << avahi_strerror(error);
            avahi_threaded_poll_free(d->poll);
            d->poll = nullptr;
            return;
        }
        d->wanted = true;
        d->name = name.toUtf8().left(63);
        d->port = port;
        d->txt = txt;
        d->commit();
        avahi_threaded_poll_start(d->poll);
        return;
    }
    avahi_threaded_poll_lock(d->poll);
    const bool same = d->wanted && d->port == port && d->txt == txt;
    d->wanted = true;
    d->port = port;
    d->txt = txt;
    if (!same) {
        d->commit();
    }
    avahi_threaded_poll_unlock(d->poll);
}

void Announcer::withdraw()
{
    if (!d->poll) {
        return;
    }
    avahi_threaded_poll_lock(d->poll);
    d->wanted = false;
    d->commit();
    avahi_threaded_poll_unlock(d->poll);
}

bool Announcer::isPublished() const
{
    return d->poll && d->wanted;
}
#else
struct Announcer::Private {};
Announcer::Announcer() = default;
Announcer::~Announcer() = default;
bool Announcer::isAvailable()
{
    return false;
}
void Announcer::publish(const QString &, quint16, const QList<QByteArray> &)
{
    qCWarning(lcCore) << "announce: this build has no DNS-SD (built without Avahi)";
}
void Announcer::withdraw() {}
bool Announcer::isPublished() const
{
    return false;
}
#endif

} // namespace wsserve::web
