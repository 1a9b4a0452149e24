// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QString>

namespace wsserve {

// One frame in the live message flow, as the GUI shows it. `frame` holds the raw frame (text or binary),
// cut to kMaxFrameBytes. Thread: a value; published by the instance in batches.
struct MessageEvent {
    static constexpr qsizetype kMaxFrameBytes = 16 * 1024;

    qint64 timeMs = 0; // ms since the epoch
    bool outgoing = false;
    bool binary = false;
    bool truncated = false;
    quint64 clientId = 0; // 0 for a broadcast
    int recipients = 1;   // a broadcast: how many subscribers got it
    QString topic;
    QString event;
    qsizetype size = 0; // the whole frame, in bytes
    QByteArray frame;
};

// What the instance publishes every 100 ms while someone watches: the events it kept and how many it
// left out. Above kMaxEventsPerBatch frames per batch it samples: the batch then says so.
struct MessageBatch {
    static constexpr int kMaxEventsPerBatch = 400;

    QList<MessageEvent> events;
    quint64 dropped = 0; // frames in this interval that were not kept (sampling)

    bool isEmpty() const { return events.isEmpty() && dropped == 0; }
    // Keeps the event (its frame cut to MessageEvent::kMaxFrameBytes), or counts it as dropped once the
    // batch is full.
    void record(MessageEvent event, const QByteArray &frame)
    {
        if (events.size() >= kMaxEventsPerBatch) {
            ++dropped; // sampling: the view says how much it is not showing
            return;
        }
        event.size = frame.size();
        event.truncated = frame.size() > MessageEvent::kMaxFrameBytes;
        event.frame = event.truncated ? frame.left(MessageEvent::kMaxFrameBytes) : frame;
        events.append(std::move(event));
    }
};

} // namespace wsserve

Q_DECLARE_METATYPE(wsserve::MessageEvent)
Q_DECLARE_METATYPE(wsserve::MessageBatch)
