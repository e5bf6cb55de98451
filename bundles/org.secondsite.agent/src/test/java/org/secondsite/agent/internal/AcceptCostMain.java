package org.secondsite.agent.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

import javax.net.ssl.SSLContext;

import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.transport.TransportSecurity;

/**
 * Cost of {@code accept()} on the hot path, shaped like benchmark P2 (fio 4 KiB random writes
 * through the nbd driver): {@code threads} connection threads write 4 KiB at random aligned
 * offsets of a disk, each {@code accept} under one export lock (as {@code NbdExport} does; the data
 * is one shared block, so that allocation and GC of data buffers do not drown the cost measured), into an agent. With {@code server=none} nothing is sent and the buffer
 * ({@code bufferMiB}, give the JVM the heap) must hold the whole run: that measures {@code accept}
 * alone. With {@code server=fake} an in-process process server ({@link FakeProcessServer})
 * acknowledges every batch at once: the whole agent, sender included. Prints accepted writes per
 * second, second by second, and the dirty-region log's page writes and forces.
 *
 * With {@code warm}, every region is dirty before the writes start (the steady state of a workload
 * that rewrites its working set within the clear delay): the log then costs no I/O at all.
 *
 * <pre>java -Xmx6g -cp ... org.secondsite.agent.internal.AcceptCostMain [seconds=10] [threads=4] [diskMiB=1024]
 *     [regionKiB=64] [bufferMiB=256] [server=fake|none] [dataDir] [cold|warm]</pre>
 */
public final class AcceptCostMain {
    private AcceptCostMain() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        long disk = (args.length > 2 ? Long.parseLong(args[2]) : 1024) << 20;
        int region = (args.length > 3 ? Integer.parseInt(args[3]) : 64) << 10;
        long buffer = (args.length > 4 ? Long.parseLong(args[4]) : 256) << 20;
        boolean server = args.length <= 5 || !args[5].equals("none");
        Path dir = args.length > 6 ? Path.of(args[6]) : Files.createTempDirectory("accept-cost");
        FakeProcessServer ps = new FakeProcessServer();
        ps.keepData = false;
        ps.up(server);
        AgentOptions o = AgentOptions.defaults(new InetSocketAddress("127.0.0.1", 9), dir).withBufferBytes(buffer)
                .withTracking(TrackingOptions.defaults().withRegionBytes(region));
        TransportSecurity sec = new TransportSecurity(SSLContext.getDefault(), id -> true);
        DiskId id = DiskId.of("bench0");
        try (Agent agent = new Agent(o, () -> "agent-1", name -> ps, () -> sec, name -> null, Clock.systemUTC())) {
            ChangeSink sink = agent.protect(id, null, disk);
            if (args.length > 7 && args[7].equals("warm")) {
                ((Agent.DiskStream) sink).markForReplay(0, disk); // nothing replays: no source is attached
            }
            ReentrantLock order = new ReentrantLock();
            LongAdder writes = new LongAdder();
            LongAdder cpuNanos = new LongAdder();
            long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            Thread[] ts = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                ts[t] = new Thread(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    long blocks = disk / 4096;
                    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
                    long cpu0 = mx.getCurrentThreadCpuTime();
                    try {
                        byte[] block = new byte[4096]; // shared: the agent keeps records' data without copying
                        while (System.nanoTime() < end) {
                            ByteBuffer data = ByteBuffer.wrap(block);
                            long off = r.nextLong(blocks) * 4096;
                            order.lock();
                            try {
                                sink.accept(ChangeRecord.write(off, data));
                            } finally {
                                order.unlock();
                            }
                            writes.increment();
                        }
                        cpuNanos.add(mx.getCurrentThreadCpuTime() - cpu0);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, "writer-" + t);
                ts[t].start();
            }
            // one line a second from a scheduler while the writers run for their fixed time
            long[] last = {0};
            java.util.concurrent.ScheduledExecutorService report = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            report.scheduleAtFixedRate(() -> {
                long now = writes.sum();
                var st = agent.disks().get(0);
                System.out.printf("%8d writes/s  (%s, held %d MiB, acked seq %d)%n", now - last[0],
                        st.tracking() == null ? "-" : st.tracking().mode(), st.backlogBytes() >> 20,
                        st.acknowledgedSequence());
                last[0] = now;
            }, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
            for (Thread t : ts) {
                t.join();
            }
            report.shutdownNow();
            long[] c = ((Agent.DiskStream) agent.sink(id)).tracking.counters();
            System.out.printf("total %d writes in %d s = %d writes/s, writer CPU %d ns per write; dirty-region log: "
                    + "%d page writes, %d forces%n", writes.sum(), seconds, writes.sum() / seconds,
                    cpuNanos.sum() / Math.max(1, writes.sum()), c[2], c[3]);
        }
    }
}
