// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// Drives a hiredis async context from the Qt event loop of the thread that calls attach(), through
// hiredis' documented adapter hooks (redisAsyncContext::ev). Debian's hiredis 0.14 ships
// <hiredis/adapters/qt.h>, but it connects QSocketNotifier::activated(int), a signal Qt 6 no longer has,
// and needs moc over a system header; this is the same thing in a dozen lines of Qt 6.

#include <QSocketNotifier>

#include <hiredis/async.h>

namespace wsserve {

class RedisQtAdapter
{
public:
    // Installs the hooks; the adapter deletes itself when hiredis cleans the context up.
    static void attach(redisAsyncContext *context)
    {
        auto *adapter = new RedisQtAdapter(context);
        context->ev.data = adapter;
        context->ev.addRead = [](void *data) {
            static_cast<RedisQtAdapter *>(data)->add(QSocketNotifier::Read);
        };
        context->ev.delRead = [](void *data) {
            static_cast<RedisQtAdapter *>(data)->drop(QSocketNotifier::Read);
        };
        context->ev.addWrite = [](void *data) {
            static_cast<RedisQtAdapter *>(data)->add(QSocketNotifier::Write);
        };
        context->ev.delWrite = [](void *data) {
            static_cast<RedisQtAdapter *>(data)->drop(QSocketNotifier::Write);
        };
        context->ev.cleanup = [](void *data) {
            auto *self = static_cast<RedisQtAdapter *>(data);
            self->drop(QSocketNotifier::Read);
            self->drop(QSocketNotifier::Write);
            delete self;
        };
    }

private:
    explicit RedisQtAdapter(redisAsyncContext *context)
        : m_context(context)
    {}

    QSocketNotifier *&slot(QSocketNotifier::Type type) { return type == QSocketNotifier::Read ? m_read : m_write; }

    void add(QSocketNotifier::Type type)
    {
        QSocketNotifier *&notifier = slot(type);
        if (notifier) {
            return;
        }
        notifier = new QSocketNotifier(m_context->c.fd, type);
        redisAsyncContext *context = m_context;
        QObject::connect(notifier, &QSocketNotifier::activated, notifier, [context, type] {
            if (type == QSocketNotifier::Read) {
                redisAsyncHandleRead(context);
            } else {
                redisAsyncHandleWrite(context);
            }
        });
    }

    // Possibly called from inside the notifier's own activation: disabled now, deleted later.
    void drop(QSocketNotifier::Type type)
    {
        QSocketNotifier *&notifier = slot(type);
        if (!notifier) {
            return;
        }
        notifier->setEnabled(false);
        QObject::disconnect(notifier, nullptr, nullptr, nullptr);
        notifier->deleteLater();
        notifier = nullptr;
    }

    redisAsyncContext *m_context;
    QSocketNotifier *m_read = nullptr;
    QSocketNotifier *m_write = nullptr;
};

} // namespace wsserve
