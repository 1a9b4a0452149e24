// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "parallelflush.h"

#include <QThread>
#include <QtGlobal>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#ifdef Q_OS_LINUX
#include <pthread.h>
#endif

namespace wsserve::parallelflush {

namespace {

qsizetype readThreshold()
{
    bool ok = false;
    const qsizetype value = qEnvironmentVariableIntValue("WSSERVE_PARALLEL_FLUSH_MIN", &ok);
    return ok && value >= 0 ? value : kDefaultThreshold;
}

int readWorkers()
{
    bool ok = false;
    const int value = qEnvironmentVariableIntValue("WSSERVE_PARALLEL_FLUSH_THREADS", &ok);
    const int workers = ok && value >= 0 ? value : QThread::idealThreadCount() - 1;
    return std::clamp(workers, 0, kMaxWorkers);
}

// One split flush. It lives on the caller's stack; the pool's mutex guards `next` and `done`, and the
// caller returns only once done == chunks, after which no worker touches it again (a worker's last access
// is under the mutex, which the caller takes before it reads done).
struct Job {
    std::span<net::WsConnection *const> connections;
    std::span<net::WsConnection::FlushStatus> statuses;
    int chunks = 0;
    int next = 0; // the next chunk nobody has taken
    int done = 0; // chunks finished

    void run(int chunk) const
    {
        const qsizetype count = static_cast<qsizetype>(connections.size());
        const qsizetype begin = count * chunk / chunks;
        const qsizetype end = count * (chunk + 1) / chunks;
        for (qsizetype i = begin; i < end; ++i) {
            statuses[static_cast<size_t>(i)] = connections[static_cast<size_t>(i)]->flush();
        }
    }
};

class Pool
{
public:
    explicit Pool(int workers)
    {
        m_threads.reserve(static_cast<size_t>(workers));
        for (int i = 0; i < workers; ++i) {
            m_threads.emplace_back([this] {
#ifdef Q_OS_LINUX
                pthread_setname_np(pthread_self(), "flush-worker"); // in top and perf, not "instance:<id>"
#endif
                work();
            });
        }
    }
    Pool(const Pool &) = delete;
    Pool &operator=(const Pool &) = delete;

    void run(Job &job)
    {
        {
            const std::lock_guard lock(m_mutex);
            m_jobs.push_back(&job);
        }
        // One wake-up per chunk the workers may take; the caller takes the rest itself.
        for (int i = 1; i < job.chunks; ++i) {
            m_wake.notify_one();
        }
        std::unique_lock lock(m_mutex);
        while (job.next < job.chunks) {
            const int chunk = take(job);
            lock.unlock();
            job.run(chunk);
            lock.lock();
            ++job.done;
        }
        m_finished.wait(lock, [&job] { return job.done == job.chunks; });
    }

private:
    // Under m_mutex: claims the job's next chunk, and takes the job off the queue with its last one.
    int take(Job &job)
    {
        const int chunk = job.next++;
        if (job.next == job.chunks) {
            m_jobs.erase(std::find(m_jobs.begin(), m_jobs.end(), &job));
        }
        return chunk;
    }

    void work()
    {
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_wake.wait(lock, [this] { return !m_jobs.empty(); });
            Job &job = *m_jobs.front();
            const int chunk = take(job);
            lock.unlock();
            job.run(chunk);
            lock.lock();
            if (++job.done == job.chunks) {
                m_finished.notify_all(); // under the lock: the caller cannot return (and drop the job) first
            }
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;     // workers: a job was queued
    std::condition_variable m_finished; // callers: a chunk of theirs finished
    std::deque<Job *> m_jobs;           // jobs with chunks nobody has taken yet
    std::vector<std::thread> m_threads;
};

Pool &pool()
{
    // Started by the first split flush and kept for the process's life, deliberately never destroyed: an
    // instance thread the supervisor abandoned (hung) may still wake and flush while statics are being
    // destroyed at exit. Its workers only ever wait on the condition variable between chunks.
    static Pool *const instance = new Pool(workerCount());
    return *instance;
}

} // namespace

qsizetype threshold()
{
    static const qsizetype value = readThreshold();
    return value;
}

int workerCount()
{
    static const int value = readWorkers();
    return value;
}

int chunksFor(qsizetype count)
{
    const qsizetype min = threshold();
    if (min <= 0 || count < min || workerCount() == 0) {
        return 1;
    }
    // A lowered threshold (tests) lowers the chunk size with it, so a few dozen clients still split.
    const qsizetype chunkSize = std::min(kMinChunk, std::max<qsizetype>(1, min / 2));
    const qsizetype wanted = std::max<qsizetype>(2, count / chunkSize);
    return static_cast<int>(std::min<qsizetype>(wanted, workerCount() + 1));
}

void flush(std::span<net::WsConnection *const> connections, std::span<net::WsConnection::FlushStatus> statuses)
{
    Q_ASSERT(connections.size() == statuses.size());
    Job job;
    job.connections = connections;
    job.statuses = statuses;
    job.chunks = chunksFor(static_cast<qsizetype>(connections.size()));
    if (job.chunks <= 1) {
        job.chunks = 1;
        job.run(0);
        return;
    }
    pool().run(job);
}

} // namespace wsserve::parallelflush
