// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "net/wsconnection.h"

#include <span>

namespace wsserve::parallelflush {

// The fan-out of one very large broadcast, split across threads: the instance thread's flush at the end of
// a batch writes every dirty client's queue with one vectored send each, and with thousands of subscribers
// those sends are most of the broadcast's cost. Above a threshold they are spread over a small process-wide
// pool of worker threads (started by the first big flush, kept for the process's life).
//
// Only WsConnection::flush() runs on the workers, each connection on exactly one thread, while the calling
// (instance) thread queues nothing; so every subscriber's frames still go out in the order queued. What the
// results mean (dropping failed clients, poller interest, shutdown after a close) stays on the caller.

// Dirty socket clients one flush needs before it is split: kDefaultThreshold, or WSSERVE_PARALLEL_FLUSH_MIN
// (a positive integer; read once) for tests and benchmarks; 0 there turns the parallel path off.
constexpr qsizetype kDefaultThreshold = 5000;
qsizetype threshold();

// Worker threads the pool has (or would have): QThread::idealThreadCount() - 1, at most kMaxWorkers, or
// WSSERVE_PARALLEL_FLUSH_THREADS (read once). 0 means every flush runs on the caller alone.
constexpr int kMaxWorkers = 63;
int workerCount();

// The fewest connections a chunk is given: a thread's wake-up costs a few microseconds, a send to a
// loopback peer about as much, so smaller chunks would cost more than they save.
constexpr qsizetype kMinChunk = 256;

// How many chunks `count` dirty connections are split into (1: not worth splitting).
int chunksFor(qsizetype count);

// statuses[i] = connections[i]->flush() for every i, spread over the calling thread and the pool's workers
// in contiguous chunks; returns once all are done (the workers' writes happen-before the return). The
// connections must not be touched by anyone else meanwhile. Safe to call from several instance threads
// at once: the caller takes any chunk no worker has started, so it never waits for a busy pool to begin.
void flush(std::span<net::WsConnection *const> connections, std::span<net::WsConnection::FlushStatus> statuses);

} // namespace wsserve::parallelflush
