// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// ThreadSanitizer annotations for Qt's cross-thread event queue, preloaded into the tsan preset's tests
// (LD_PRELOAD, see CMakePresets.json). Debian's Qt is not built with TSan: a queued signal or
// invokeMethod copies its arguments in the sender's thread, Qt hands the event over under a QMutex inside
// libQt6Core (invisible to TSan), and the slot reads the arguments in the receiver's thread. Without this
// file every queued call is reported as a data race between the copy and the read, hundreds per test.
//
// What it does: every cross-thread post ends with Qt waking the receiving thread's glib main context
// (QEventDispatcherGlib::wakeUp -> g_main_context_wakeup, a call from libQt6Core into libglib that an
// LD_PRELOADed definition intercepts), after the event and the copies of its arguments are complete. That
// call does a TSan *release* on the context, and the ways in that wsserve calls itself (postEvent,
// invokeMethod, QTimer::singleShot, deleteLater) release on the receiver's QThread; every event delivery
// (Qt's EventNotifyCallback hook in QCoreApplication::notifyInternal2) does the matching *acquire* on the
// delivering thread's own context and QThread.
// That is exactly the happens-before edge Qt's queue provides, per receiving thread: a race between two
// threads is still reported unless the writer posted to the reader between the two accesses.
// Run with TSAN_OPTIONS=ignore_noninstrumented_modules=1 as well, so malloc/free/memcpy called from
// inside Qt and glib (whose own locks TSan cannot see either) are not checked; wsserve's code and the Qt
// templates inlined into it are.
#include <QtCore/QObject>
#include <QtCore/QThread>
#include <QtCore/qnamespace.h>

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

namespace {

using ContextFn = void *(*)();

template <typename Function> Function next(const char *name, void *handle = RTLD_NEXT)
{
    void *symbol = dlsym(handle, name);
    if (!symbol) {
        std::fprintf(stderr, "tsanqthandoff: %s not found\n", name);
        std::abort();
    }
    return reinterpret_cast<Function>(symbol);
}

// The glib context of the calling thread's event dispatcher: Qt pushes it as the thread default in every
// thread with an event loop; the main thread's is the global default context.
void *globalContext()
{
    static const ContextFn globalDefault = next<ContextFn>("g_main_context_default", RTLD_DEFAULT);
    return globalDefault();
}

void *currentContext()
{
    static const ContextFn threadDefault = next<ContextFn>("g_main_context_get_thread_default", RTLD_DEFAULT);
    void *context = threadDefault();
    return context ? context : globalContext();
}

// Posts made by wsserve's own calls are also released on the receiver's QThread: a post to a thread whose
// event dispatcher does not exist yet (right after QThread::start) wakes no glib context.
void releaseTo(const QObject *receiver)
{
    __tsan_release(receiver ? receiver->thread() : QThread::currentThread());
}

bool onEventDelivered(void **)
{
    __tsan_acquire(currentContext());
    __tsan_acquire(QThread::currentThread());
    return false; // never consume the event
}

[[maybe_unused]] const bool g_registered = [] {
    QInternal::registerCallback(QInternal::EventNotifyCallback, onEventDelivered);
    return true;
}();

} // namespace

extern "C" {

// void g_main_context_wakeup(GMainContext *): what QEventDispatcherGlib::wakeUp() calls once
// QCoreApplication::postEvent has queued an event for the thread that runs `context`.
void g_main_context_wakeup(void *context)
{
    using Fn = void (*)(void *);
    static const Fn real = next<Fn>("g_main_context_wakeup");
    __tsan_release(context ? context : globalContext()); // NULL means the global default context
    real(context);
}

// The entry points below are Qt 6's exported symbols (nm -D --defined-only libQt6Core.so.6), which
// wsserve's code and the Qt templates inlined into it call through the PLT. Each is aligned like a C++
// member function: code takes &QObject::deleteLater as a pointer to member, whose low bit means "virtual"
// in the Itanium ABI, so an odd address would be called through a vtable.
#define WSSERVE_MEMBER_ALIGNED __attribute__((aligned(16)))

// void QCoreApplication::postEvent(QObject *, QEvent *, int)
WSSERVE_MEMBER_ALIGNED void _ZN16QCoreApplication9postEventEP7QObjectP6QEventi(QObject *receiver, QEvent *event,
                                                                               int priority)
{
    using Fn = void (*)(QObject *, QEvent *, int);
    static const Fn real = next<Fn>("_ZN16QCoreApplication9postEventEP7QObjectP6QEventi");
    releaseTo(receiver);
    real(receiver, event, priority);
}

// bool QMetaObject::invokeMethodImpl(QObject *, QtPrivate::QSlotObjectBase *, Qt::ConnectionType, void *)
WSSERVE_MEMBER_ALIGNED bool
_ZN11QMetaObject16invokeMethodImplEP7QObjectPN9QtPrivate15QSlotObjectBaseEN2Qt14ConnectionTypeEPv(
    QObject *object, QtPrivate::QSlotObjectBase *slot, Qt::ConnectionType type, void *ret)
{
    using Fn = bool (*)(QObject *, QtPrivate::QSlotObjectBase *, Qt::ConnectionType, void *);
    static const Fn real =
        next<Fn>("_ZN11QMetaObject16invokeMethodImplEP7QObjectPN9QtPrivate15QSlotObjectBaseEN2Qt14ConnectionTypeEPv");
    releaseTo(object);
    return real(object, slot, type, ret);
}

// void QTimer::singleShotImpl(int, Qt::TimerType, const QObject *, QtPrivate::QSlotObjectBase *)
WSSERVE_MEMBER_ALIGNED void _ZN6QTimer14singleShotImplEiN2Qt9TimerTypeEPK7QObjectPN9QtPrivate15QSlotObjectBaseE(
    int msec, Qt::TimerType type, const QObject *receiver, QtPrivate::QSlotObjectBase *slot)
{
    using Fn = void (*)(int, Qt::TimerType, const QObject *, QtPrivate::QSlotObjectBase *);
    static const Fn real =
        next<Fn>("_ZN6QTimer14singleShotImplEiN2Qt9TimerTypeEPK7QObjectPN9QtPrivate15QSlotObjectBaseE");
    releaseTo(receiver);
    real(msec, type, receiver, slot);
}

// void QObject::deleteLater()
WSSERVE_MEMBER_ALIGNED void _ZN7QObject11deleteLaterEv(QObject *self)
{
    using Fn = void (*)(QObject *);
    static const Fn real = next<Fn>("_ZN7QObject11deleteLaterEv");
    releaseTo(self);
    real(self);
}

} // extern "C"
