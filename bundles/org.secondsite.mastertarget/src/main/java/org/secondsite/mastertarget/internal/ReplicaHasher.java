package org.secondsite.mastertarget.internal;

import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;
import org.secondsite.wire.BlockHashes;
import org.secondsite.wire.HashStatus;
import org.secondsite.wire.Message;
import org.secondsite.wire.WireProtocol;

/**
 * Answers HASH_QUERY (docs/PROTOCOL.md §3.11) for the master target: waits, without holding a
 * thread, until the disk's replica has applied the query's sequence (or the wait times out, which
 * answers RETRY with the reason), then reads the ranges with large positional reads and hashes
 * them on a small pool of threads, off the receiving and applying threads.
 *
 * <p>The replica is read while batches may be applied to it: a block being written meanwhile may
 * hash torn. That never makes the resync wrong (see the correctness argument in
 * docs/PROTOCOL.md §5): a block that the stream writes after the query's sequence gets its final
 * content from the stream, whatever the comparison decided.
 */
final class ReplicaHasher implements Closeable {
    private static final System.Logger LOG = System.getLogger(ReplicaHasher.class.getName());
    /** Bytes read from the replica at once by each hashing thread. */
    static final int READ_BYTES = 4 << 20;

    /** A disk's replica as the hasher needs it. */
    record Replica(BlockDevice volume, long size, long applied) {
    }

    /** Looks up a disk's replica; null while the disk is unknown or its volume is not open. */
    interface Replicas {
        Replica replica(DiskId disk);

        /** The disk's applied sequence, or -1 if unknown (for messages). */
        long applied(DiskId disk);
    }

    /** Where an answer goes (a process-server session). */
    interface Reply {
        void send(Message.Hashes answer) throws IOException;
    }

    private final Replicas replicas;
    private final Duration maxWait;
    private final ExecutorService pool;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // ---- guarded by lock ----
    private final List<Job> waiting = new ArrayList<>();
    private final Map<Object, Integer> inFlight = new HashMap<>();
    private boolean closed;
    /** Counts submissions and signals, so that the dispatcher never sleeps through one. */
    private long signals;
    private volatile int waitingCount;
    private final Thread dispatcher;
    private final ThreadLocal<Worker> workers = ThreadLocal.withInitial(Worker::new);

    ReplicaHasher(Replicas replicas, int threads, Duration maxWait) {
        this.replicas = Objects.requireNonNull(replicas, "replicas");
        this.maxWait = maxWait;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "secondsite-mt-hasher-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.dispatcher = new Thread(this::dispatch, "secondsite-mt-hash-dispatcher");
        dispatcher.setDaemon(true);
        dispatcher.start();
    }

    private static final class Job {
        final Object owner;
        final Message.HashQuery query;
        final Reply reply;
        final long deadline;

        Job(Object owner, Message.HashQuery query, Reply reply, long deadline) {
            this.owner = owner;
            this.query = query;
            this.reply = reply;
            this.deadline = deadline;
        }
    }

    /** Per hashing thread: its read buffer and digest. */
    private static final class Worker {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(READ_BYTES);
        final BlockHashes hashes = new BlockHashes();
    }

    /**
     * Takes a query of {@code owner} (a connection).
     *
     * @return false if {@code owner} already has {@link WireProtocol#MAX_HASH_QUERIES_IN_FLIGHT}
     *         queries unanswered (the caller refuses the connection)
     */
    boolean submit(Object owner, Message.HashQuery q, Reply reply) {
        lock.lock();
        try {
            if (closed) {
                return true; // closing: the connection ends anyway
            }
            int n = inFlight.getOrDefault(owner, 0);
            if (n >= WireProtocol.MAX_HASH_QUERIES_IN_FLIGHT) {
                return false;
            }
            inFlight.put(owner, n + 1);
            waiting.add(new Job(owner, q, reply, System.nanoTime() + maxWait.toNanos()));
            waitingCount = waiting.size();
            signals++;
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** A disk applied more or its volume opened: waiting queries may be ready. Cheap when none waits. */
    void appliedAdvanced() {
        if (waitingCount > 0) {
            lock.lock();
            try {
                signals++;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The connection {@code owner} ended: its queries are dropped (answers could not be sent). */
    void cancel(Object owner) {
        lock.lock();
        try {
            waiting.removeIf(j -> j.owner == owner);
            waitingCount = waiting.size();
            inFlight.remove(owner);
        } finally {
            lock.unlock();
        }
    }

    private void done(Job j) {
        lock.lock();
        try {
            inFlight.computeIfPresent(j.owner, (k, n) -> n <= 1 ? null : n - 1);
        } finally {
            lock.unlock();
        }
    }

    private boolean live(Job j) {
        lock.lock();
        try {
            return !closed && inFlight.containsKey(j.owner);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves waiting queries to the pool once their replica is ready, or answers RETRY at their
     * deadline. Looks replicas up without holding this hasher's lock, so that the master target
     * may signal {@link #appliedAdvanced} while it holds its own.
     */
    private void dispatch() {
        List<Job> snapshot = new ArrayList<>();
        List<Job> ready = new ArrayList<>();
        List<Job> expired = new ArrayList<>();
        while (true) {
            long seen;
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                snapshot.clear();
                snapshot.addAll(waiting);
                seen = signals;
            } finally {
                lock.unlock();
            }
            long now = System.nanoTime();
            long next = Long.MAX_VALUE;
            for (Job j : snapshot) {
                Replica r = replicas.replica(j.query.disk());
                if (r != null && r.applied() >= j.query.afterSequence()) {
                    ready.add(j);
                } else if (now - j.deadline >= 0) {
                    expired.add(j);
                } else {
                    next = Math.min(next, j.deadline - now);
                }
            }
            lock.lock();
            try {
                waiting.removeAll(ready);
                waiting.removeAll(expired);
                waitingCount = waiting.size();
                if (ready.isEmpty() && expired.isEmpty() && seen == signals && !closed) {
                    if (next == Long.MAX_VALUE) {
                        changed.await();
                    } else {
                        changed.awaitNanos(next);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.unlock();
            }
            for (Job j : expired) {
                long applied = replicas.applied(j.query.disk());
                String why = applied < 0
                        ? "disk " + j.query.disk() + " has no open replica volume at this master target (no DISK_INFO yet)"
                        : "the replica of disk " + j.query.disk() + " has applied sequence " + applied
                                + ", the query needs " + j.query.afterSequence();
                answer(j, Message.Hashes.refuse(j.query, HashStatus.RETRY, Math.max(0, applied),
                        why + "; not reached within " + maxWait.toSeconds() + " s"));
            }
            for (Job j : ready) {
                pool.execute(() -> hash(j));
            }
            ready.clear();
            expired.clear();
        }
    }

    private void hash(Job j) {
        if (!live(j)) {
            return;
        }
        Message.HashQuery q = j.query;
        Replica r = replicas.replica(q.disk());
        if (r == null) {
            answer(j, Message.Hashes.refuse(q, HashStatus.RETRY, 0, "the replica volume of disk " + q.disk()
                    + " closed before it could be read; ask again"));
            return;
        }
        for (Message.HashQuery.Range range : q.ranges()) {
            if (range.end() > r.size()) {
                answer(j, Message.Hashes.refuse(q, HashStatus.FAILED, r.applied(), "range " + range + " of disk "
                        + q.disk() + " ends beyond its replica of " + r.size() + " bytes"));
                return;
            }
        }
        Worker w = workers.get();
        byte[] out = new byte[q.blockCount() * WireProtocol.HASH_BYTES];
        int n = 0;
        try {
            for (Message.HashQuery.Range range : q.ranges()) {
                n += w.hashes.hash(r.volume(), range.offset(), range.length(), q.blockSize(), w.buffer, out,
                        n * WireProtocol.HASH_BYTES);
            }
        } catch (ClosedChannelException e) {
            answer(j, Message.Hashes.refuse(q, HashStatus.RETRY, r.applied(), "the replica volume of disk " + q.disk()
                    + " was closed while it was read (it is reopened by the next DISK_INFO); ask again"));
            return;
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "master target: hashing the replica of disk " + q.disk() + " failed: " + e);
            answer(j, Message.Hashes.refuse(q, HashStatus.FAILED, r.applied(), "reading the replica of disk "
                    + q.disk() + " failed: " + e));
            return;
        }
        answer(j, new Message.Hashes(q.requestId(), q.disk(), q.blockSize(), r.applied(), HashStatus.OK, "",
                ByteBuffer.wrap(out)));
    }

    private void answer(Job j, Message.Hashes h) {
        try {
            if (live(j)) {
                j.reply.send(h);
            }
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "master target: sending HASHES: " + e);
        } finally {
            done(j);
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            waiting.clear();
            waitingCount = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        pool.shutdown();
        try {
            dispatcher.join(TimeUnit.SECONDS.toMillis(5));
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
