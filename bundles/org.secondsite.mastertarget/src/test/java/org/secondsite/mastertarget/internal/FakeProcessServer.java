package org.secondsite.mastertarget.internal;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

import org.secondsite.api.appliance.Role;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.wire.BatchEncoder;
import org.secondsite.wire.Compressors;
import org.secondsite.wire.Message;
import org.secondsite.wire.MessageCodec;

/**
 * A process server spoken by hand to a master target: HELLO, DISK_INFO, RESUME_QUERY and
 * BATCH frames (uncompressed); a reader thread records the ACKs.
 */
final class FakeProcessServer implements Closeable {
    final FrameConnection c;
    final Map<DiskId, Long> acked = new ConcurrentHashMap<>();
    private final BatchEncoder encoder = new BatchEncoder();
    private final Object resumeLock = new Object();
    private Message.ResumePoint resume;
    private volatile String failure;
    private final Thread reader;

    FakeProcessServer(Transport t, InetSocketAddress mt, TransportSecurity security, BiConsumer<DiskId, Long> onAck)
            throws IOException {
        c = t.connect(mt, security, Duration.ofSeconds(30));
        c.send(MessageCodec.encode(new Message.Hello("ps-1", Role.PROCESS_SERVER, List.of("none"), List.of())));
        Message.HelloAck ack = (Message.HelloAck) MessageCodec.decode(c.receive());
        if (!ack.accepted()) {
            throw new IOException("refused: " + ack.reason());
        }
        reader = new Thread(() -> {
            try {
                ByteBuffer f;
                while ((f = c.receive()) != null) {
                    Message m = MessageCodec.decode(f);
                    if (m instanceof Message.Ack a) {
                        acked.merge(a.disk(), a.durableSequence(), Math::max);
                        onAck.accept(a.disk(), a.durableSequence());
                    } else if (m instanceof Message.ResumePoint r) {
                        synchronized (resumeLock) {
                            resume = r;
                            resumeLock.notifyAll();
                        }
                    } else if (!(m instanceof Message.Heartbeat)) {
                        failure = m.toString();
                    }
                }
            } catch (IOException e) {
                if (failure == null) {
                    failure = e.toString();
                }
            }
        }, "fake-ps-reader");
        reader.setDaemon(true);
        reader.start();
    }

    String failure() {
        return failure;
    }

    void diskInfo(DiskId disk, GroupId group, long size) throws IOException {
        c.send(MessageCodec.encode(new Message.DiskInfo(disk, group, size)));
    }

    /** The master target's durable sequence of each disk. */
    Map<DiskId, Long> resume(List<DiskId> disks) throws IOException, InterruptedException {
        synchronized (resumeLock) {
            resume = null;
        }
        c.send(MessageCodec.encode(new Message.ResumeQuery(disks)));
        synchronized (resumeLock) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (resume == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("no RESUME_POINT within 30 s (" + failure + ")");
                }
                resumeLock.wait(Math.max(1, left / 1_000_000));
            }
            return resume.durable();
        }
    }

    void send(DeltaBatch b) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(BatchEncoder.maxFrameLength(b, Compressors.NONE));
        try {
            encoder.encode(b, Compressors.NONE, out);
        } catch (org.secondsite.api.compress.CompressionException e) {
            throw new IOException(e);
        }
        c.send(out.flip());
    }

    static Instant time(long micros) {
        return Instant.EPOCH.plusNanos(micros * 1000);
    }

    @Override
    public void close() throws IOException {
        c.close();
    }
}
