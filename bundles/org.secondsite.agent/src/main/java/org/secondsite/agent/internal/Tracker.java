package org.secondsite.agent.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import org.secondsite.api.model.DiskId;

/**
 * Tiered change tracking of the agent's disks: what makes {@code ChangeSink.accept} safe
 * against a crash of the agent, and what lets the agent keep capturing when memory, its local
 * cache or the link to the process server run out.
 *
 * <h2>Tiers</h2>
 * <ol>
 * <li><b>Memory</b>: changes are batched in memory ({@code bufferBytes} per disk), as they
 * always were.</li>
 * <li><b>Spill</b>: when a sealed batch does not fit in memory (leaving room for one open
 * batch), it is appended to the disk's {@link ChangeCache} ({@code spillBytes}), and so is
 * every batch sealed while the cache holds any, to keep write order. This thread moves them
 * back into memory, oldest first, as acknowledgements free memory; only then do they get
 * their sequence numbers.</li>
 * <li><b>Bitmap</b>: when a batch fits neither in memory nor in the cache, or when the process
 * server has been unreachable for {@code bitmapAfter}, the disk enters bitmap mode: that
 * batch and every later change are only remembered as dirty regions to replay. Data already
 * held in memory and in the cache stays and is sent. Bitmap mode ends when the link is up,
 * the cache is empty and memory is at most half full; then the dirty regions are replayed:
 * read from the source with {@code openSourceRead}/{@code appendSourceRead} and sent like any
 * change. A region leaves the replay set once it is appended; it is clean once the batch
 * carrying it is acknowledged.</li>
 * </ol>
 *
 * <h2>Crash safety: the dirty-region log</h2>
 * Every change accepted, in any tier, first marks its regions in the disk's
 * {@link DirtyRegionLog}, which is forced to disk before {@code accept} returns; a change whose
 * regions are all marked already costs no I/O. A region is cleared lazily: once every change
 * touching it is acknowledged durable by the process server and no change touched it for a
 * full clear epoch ({@code clearDelay}; stamps at epoch boundaries tell which changes are
 * acknowledged). So at any moment the log covers every change not yet acknowledged, and
 * after a crash ({@code kill -9}) the agent replays exactly the regions in the log, never the
 * whole disk. The change cache needs no forcing and is not reused after a restart: its
 * content is covered by the log.
 *
 * <h2>Threads</h2>
 * Decisions are taken under the agent's lock. This class's thread ("secondsite-agent-tracker")
 * switches modes, clears the log, and does the I/O of reloading the cache and of replaying,
 * outside the lock.
 */
final class Tracker {
    private static final System.Logger LOG = System.getLogger(Tracker.class.getName());
    static final String DRL_DIR = "drl";
    static final String CACHE_DIR = "cache";
    private static final long TICK = TimeUnit.MILLISECONDS.toNanos(100);

    private final AgentOptions options;
    private final Clock clock;
    private final ReentrantLock lock;
    private final Condition wake;
    private final NavigableMap<DiskId, Agent.DiskStream> disks;
    private final BooleanSupplier linkUp;
    private final Path drlDir;
    private final Path cacheDir;
    private final Thread thread;
    private final String bootId = DirtyRegionLog.currentBootId();
    // guarded by lock
    private boolean closed;
    private long downSince;
    private DiskId lastWorked;

    /**
     * @param disks the agent's disks, guarded by {@code lock}
     * @param linkUp whether the process server takes data now; called with the lock held
     */
    Tracker(AgentOptions options, Clock clock, ReentrantLock lock, NavigableMap<DiskId, Agent.DiskStream> disks,
            BooleanSupplier linkUp) throws IOException {
        this.options = options;
        this.clock = clock;
        this.lock = lock;
        this.wake = lock.newCondition();
        this.disks = disks;
        this.linkUp = linkUp;
        this.drlDir = options.dataDir().resolve(DRL_DIR);
        this.cacheDir = options.dataDir().resolve(CACHE_DIR);
        ChangeCache.deleteAll(cacheDir); // left over from before a restart; the log covers it
        this.downSince = System.nanoTime();
        this.thread = new Thread(this::run, "secondsite-agent-tracker");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    ReentrantLock lock() {
        return lock;
    }

    /** Wakes the tracker thread. Lock held. */
    void wake() {
        wake.signalAll();
    }

    /** The dirty-region log file of {@code disk}. */
    Path logFile(DiskId disk) {
        return drlDir.resolve(DirtyRegionLog.fileName(disk.value()) + DirtyRegionLog.SUFFIX);
    }

    /** Opens the tracking of a disk being protected: loads its log (dirty regions left by a crash are replayed). Lock held. */
    DiskTracking open(Agent.DiskStream stream) {
        DirtyRegionLog log = null;
        try {
            log = DirtyRegionLog.open(logFile(stream.disk), stream.disk.value(), stream.size,
                    options.tracking().regionBytes(), bootId);
            ChangeCache cache = new ChangeCache(cacheDir.resolve(DirtyRegionLog.fileName(stream.disk.value())),
                    options.tracking().spillBytes());
            return new DiskTracking(this, options, clock, stream, log, cache);
        } catch (IOException e) {
            if (log != null) {
                Agent.closeQuietly(log);
            }
            throw new UncheckedIOException("disk " + stream.disk + ": cannot open its change tracking under "
                    + options.dataDir() + ": " + e.getMessage(), e);
        }
    }

    private void run() {
        lock.lock();
        try {
            while (!closed) {
                long now = System.nanoTime();
                boolean up = linkUp.getAsBoolean();
                if (up) {
                    downSince = -1;
                } else if (downSince == -1) {
                    downSince = now;
                }
                long down = up ? 0 : now - downSince;
                Runnable work = null;
                for (Agent.DiskStream s : order()) {
                    s.tracking.tick(now, up, down);
                    if (work == null) {
                        work = workFor(s.tracking, now);
                        if (work != null) {
                            lastWorked = s.disk;
                        }
                    }
                }
                if (work != null) {
                    lock.unlock();
                    try {
                        work.run();
                    } catch (RuntimeException e) {
                        LOG.log(Level.ERROR, "agent change tracking: " + e, e);
                    } finally {
                        lock.lock();
                    }
                    continue;
                }
                wake.awaitNanos(TICK);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    private Runnable workFor(DiskTracking t, long now) {
        ChangeCache.Entry head = t.reloadable();
        if (head != null) {
            return () -> t.reload(head);
        }
        long[] range = t.replayable(now);
        if (range != null) {
            return () -> t.replayRegions(range[0], range[1]);
        }
        return null;
    }

    /** The disks, starting after the one that had work last, so that none starves. Lock held. */
    private List<Agent.DiskStream> order() {
        if (lastWorked == null) {
            return new ArrayList<>(disks.values());
        }
        List<Agent.DiskStream> out = new ArrayList<>(disks.tailMap(lastWorked, false).values());
        out.addAll(disks.headMap(lastWorked, true).values());
        return out;
    }

    /** Stops the thread (waits for the work in progress). Then close each disk's tracking. */
    void stop() {
        lock.lock();
        try {
            closed = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
