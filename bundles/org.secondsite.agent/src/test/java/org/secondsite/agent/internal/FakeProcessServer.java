package org.secondsite.agent.internal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.transport.ConnectionHandler;
import org.secondsite.api.transport.FrameConnection;
import org.secondsite.api.transport.Transport;
import org.secondsite.api.transport.TransportSecurity;
import org.secondsite.api.transport.TransportServer;
import org.secondsite.wire.BatchDecoder;
import org.secondsite.wire.Compressors;
import org.secondsite.wire.Message;
import org.secondsite.wire.MessageCodec;
import org.secondsite.wire.MessageType;
import org.secondsite.wire.ResendReason;
import org.secondsite.wire.WireProtocol;

/**
 * A process server in the test's JVM, reached through a {@link Transport} of in-memory frame
 * queues: it speaks the agent's side of the protocol, applies batches in sequence order to an
 * in-memory replica per disk, and acknowledges each at once. Tests turn it off ({@link #up}:
 * connections refused and cut) and watch every applied batch ({@link #onApply}).
 */
final class FakeProcessServer implements Transport {
    static final String NAME = "fake";

    private final Map<DiskId, byte[]> replicas = new ConcurrentHashMap<>();
    private final Map<DiskId, Long> durable = new ConcurrentHashMap<>();
    private final List<Pipe> live = new ArrayList<>();
    private volatile boolean up = true;
    /** Whether batches are applied to the in-memory replicas (off for measurements: acknowledged only). */
    volatile boolean keepData = true;
    /** Called with each batch applied, before its ACK leaves. */
    volatile Consumer<DeltaBatch> onApply = b -> { };

    /** Takes connections (true) or refuses them and cuts the current ones (false). */
    void up(boolean on) {
        up = on;
        if (!on) {
            synchronized (live) {
                for (Pipe p : live) {
                    p.close();
                }
                live.clear();
            }
        }
    }

    long durable(DiskId disk) {
        return durable.getOrDefault(disk, 0L);
    }

    String replicaSha256(DiskId disk) throws Exception {
        byte[] r = replicas.get(disk);
        synchronized (r) {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(r));
        }
    }

    static String sha256(byte[] b) throws Exception {
        synchronized (b) {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TransportServer listen(InetSocketAddress bind, TransportSecurity security, ConnectionHandler handler) {
        throw new UnsupportedOperationException("the fake process server only takes connections from an agent");
    }

    @Override
    public FrameConnection connect(InetSocketAddress remote, TransportSecurity security, Duration timeout)
            throws IOException {
        if (!up) {
            throw new ConnectException("fake process server is down");
        }
        Pipe toServer = new Pipe();
        Pipe toAgent = new Pipe();
        synchronized (live) {
            live.add(toServer);
            live.add(toAgent);
        }
        Thread t = new Thread(() -> serve(toServer, toAgent), "fake-process-server");
        t.setDaemon(true);
        t.start();
        return new End(toAgent, toServer);
    }

    private void serve(Pipe in, Pipe out) {
        BatchDecoder decoder = new BatchDecoder(n -> Compressors.NONE_NAME.equals(n) ? Compressors.NONE : null);
        try {
            while (true) {
                ByteBuffer f = in.take();
                if (f == null) {
                    return;
                }
                if (MessageCodec.type(f) == MessageType.BATCH) {
                    DeltaBatch b = decoder.decode(f);
                    long d = durable(b.disk());
                    if (b.sequence() == d + 1) {
                        apply(b);
                        durable.put(b.disk(), b.sequence());
                        out.put(MessageCodec.encode(new Message.Ack(b.disk(), b.sequence())));
                    } else if (b.sequence() <= d) {
                        out.put(MessageCodec.encode(new Message.Ack(b.disk(), d)));
                    } else {
                        out.put(MessageCodec.encode(new Message.Resend(b.disk(), d + 1, ResendReason.GAP, "gap")));
                        return;
                    }
                    continue;
                }
                Message m = MessageCodec.decode(f);
                if (m instanceof Message.Hello) {
                    out.put(MessageCodec.encode(Message.HelloAck.accept(WireProtocol.VERSION, "ps-1",
                            List.of(Compressors.NONE_NAME))));
                } else if (m instanceof Message.ResumeQuery q) {
                    Map<DiskId, Long> point = new TreeMap<>();
                    for (DiskId disk : q.disks()) {
                        point.put(disk, durable(disk));
                    }
                    out.put(MessageCodec.encode(new Message.ResumePoint(point)));
                } else if (m instanceof Message.DiskInfo info) {
                    replicas.computeIfAbsent(info.disk(), k -> new byte[keepData ? Math.toIntExact(info.sizeBytes()) : 0]);
                } else if (m instanceof Message.Heartbeat) {
                    out.put(MessageCodec.encode(new Message.Heartbeat(Instant.now(), new TreeMap<>())));
                }
            }
        } catch (IOException | RuntimeException e) {
            // the connection ends; the agent reconnects
        } finally {
            in.close();
            out.close();
        }
    }

    private void apply(DeltaBatch b) {
        if (!keepData) {
            onApply.accept(b);
            return;
        }
        byte[] r = replicas.get(b.disk());
        synchronized (r) {
            for (ChangeRecord c : b.records()) {
                switch (c.kind()) {
                    case WRITE -> c.data().get(r, (int) c.offset(), c.length());
                    case ZERO, TRIM -> java.util.Arrays.fill(r, (int) c.offset(), (int) c.end(), (byte) 0);
                    case DIRTY -> throw new IllegalStateException("a DIRTY record reached the process server: " + c);
                }
            }
        }
        onApply.accept(b);
    }

    /** One direction of a connection. */
    private static final class Pipe {
        private static final ByteBuffer EOF = ByteBuffer.allocate(0);
        private final BlockingQueue<ByteBuffer> q = new LinkedBlockingQueue<>();
        private volatile boolean closed;

        void put(ByteBuffer f) throws IOException {
            if (closed) {
                throw new IOException("connection closed");
            }
            ByteBuffer copy = ByteBuffer.allocate(f.remaining());
            copy.put(f.duplicate()).flip();
            q.add(copy);
        }

        ByteBuffer take() throws IOException {
            try {
                ByteBuffer f = q.take();
                if (f == EOF) {
                    q.add(EOF);
                    return null;
                }
                return f;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }

        void close() {
            closed = true;
            q.add(EOF);
        }
    }

    /** The agent's end. */
    private static final class End implements FrameConnection {
        private final Pipe in;
        private final Pipe out;

        End(Pipe in, Pipe out) {
            this.in = in;
            this.out = out;
        }

        @Override
        public void send(ByteBuffer frame) throws IOException {
            out.put(frame);
            frame.position(frame.limit());
        }

        @Override
        public ByteBuffer receive() throws IOException {
            return in.take();
        }

        @Override
        public String peerIdentity() {
            return "ps-1";
        }

        @Override
        public int maxFrameSize() {
            return WireProtocol.MAX_FRAME_SIZE;
        }

        @Override
        public void close() {
            in.close();
            out.close();
        }
    }
}
