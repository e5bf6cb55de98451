package org.secondsite.demo.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.replication.DiskReplicationStatus;
import org.secondsite.api.replication.ReplicationMonitor.Stage;
import org.secondsite.api.storage.BlockDevice;

/**
 * The demonstration, as plain logic: protect a sample disk, write to it through its NBD
 * export as a workload would, wait until the master target has applied everything, and
 * compare the source's and the replica's SHA-256.
 */
final class DemoRun {
    static final DiskId DISK = DiskId.of("demo-disk0");
    static final long DISK_SIZE = 256L << 20;
    static final int CHUNK = 1 << 20;

    /** What the demo needs from the running appliance. */
    interface Appliance {
        /** Protects {@code source} as {@link #DISK} with the nbd capture driver listening on {@code nbd}. */
        void protect(Path source, InetSocketAddress nbd) throws IOException;

        /** Every disk at every replication stage, now. */
        List<DiskReplicationStatus> replication();

        /** The replica volume of {@link #DISK}, if the master target has created it. */
        Optional<BlockDevice> replica() throws IOException;
    }

    private final Appliance appliance;
    private final Consumer<String> out;
    private final Path dir;
    private final InetSocketAddress nbd;
    private final Supplier<byte[]> dataSource;

    DemoRun(Appliance appliance, Consumer<String> out, Path dir, InetSocketAddress nbd, Supplier<byte[]> data) {
        this.appliance = appliance;
        this.out = out;
        this.dir = dir;
        this.nbd = nbd;
        this.dataSource = data;
    }

    /** Runs the demonstration; returns whether source and replica hashes are equal. */
    boolean run(long bytesToWrite) throws Exception {
        Path source = dir.resolve(DISK.value() + ".img");
        Files.createDirectories(dir);
        if (!Files.exists(source)) {
            try (RandomAccessFile f = new RandomAccessFile(source.toFile(), "rw")) {
                f.setLength(DISK_SIZE);
            }
        }
        out.accept("[demo] 1/4 protecting " + source + " (" + (DISK_SIZE >> 20) + " MiB) as disk '" + DISK
                + "' with the nbd capture driver at nbd://" + nbd.getHostString() + ":" + nbd.getPort() + "/" + DISK);
        appliance.protect(source, nbd);
        NbdClient client = connect();
        byte[] data = dataSource.get();
        out.accept("[demo] 2/4 writing " + (bytesToWrite >> 20) + " MiB of mixed data (binaries and text) through NBD, "
                + "as a workload would");
        long started = System.nanoTime();
        try (client) {
            long written = 0;
            int i = 0;
            while (written < bytesToWrite) {
                // Spread over the disk, revisiting earlier regions so that write order matters.
                long slot = (i * 7L) % (DISK_SIZE / CHUNK);
                int from = (int) ((i * 1_048_573L) % (data.length - CHUNK));
                client.write(slot * CHUNK, java.util.Arrays.copyOfRange(data, from, from + CHUNK), CHUNK);
                written += CHUNK;
                i++;
                if (written % (32 << 20) == 0) {
                    out.accept(String.format("[demo]     %d MiB written, %s", written >> 20, stages()));
                }
            }
            client.flush();
        }
        double secs = (System.nanoTime() - started) / 1e9;
        out.accept(String.format("[demo]     done: %d MiB in %.1f s (%.0f MB/s)", bytesToWrite >> 20, secs,
                bytesToWrite / 1e6 / secs));

        out.accept("[demo] 3/4 waiting for the master target to apply everything the agent captured");
        Poll.until("the master target to catch up with the agent", this::caughtUp, Duration.ofMillis(200),
                Duration.ofMinutes(3));
        out.accept("[demo]     " + stages());

        out.accept("[demo] 4/4 comparing source and replica");
        String src = sha256(source);
        String rep;
        try (BlockDevice replica = appliance.replica().orElseThrow(
                () -> new IOException("the master target has no replica volume for " + DISK))) {
            rep = sha256(replica);
        }
        out.accept("[demo]     source  sha256 " + src);
        out.accept("[demo]     replica sha256 " + rep);
        boolean same = src.equals(rep);
        out.accept(same ? "[demo] the replica equals the source. Watch it with dr:replication; write more with e.g.\n"
                + "[demo]   qemu-io -f raw nbd://" + nbd.getHostString() + ":" + nbd.getPort() + "/" + DISK
                + " -c 'write -P 0x42 0 8M'"
                : "[demo] MISMATCH: the replica differs from the source");
        return same;
    }

    private NbdClient connect() throws Exception {
        NbdClient[] holder = new NbdClient[1];
        Poll.until("the NBD export of " + DISK, () -> {
            try {
                holder[0] = new NbdClient(nbd, DISK.value());
                return true;
            } catch (IOException notYet) {
                return false;
            }
        }, Duration.ofMillis(200), Duration.ofMinutes(2));
        return holder[0];
    }

    private boolean caughtUp() {
        long agent = -1;
        long applied = -2;
        for (DiskReplicationStatus s : appliance.replication()) {
            if (!s.disk().equals(DISK)) {
                continue;
            }
            if (s.stage() == Stage.AGENT) {
                agent = s.lastSequence();
            } else if (s.stage() == Stage.MASTER_TARGET) {
                applied = s.acknowledgedSequence();
            }
        }
        return agent > 0 && applied >= agent;
    }

    private String stages() {
        StringBuilder sb = new StringBuilder();
        for (DiskReplicationStatus s : appliance.replication()) {
            if (s.disk().equals(DISK)) {
                sb.append(sb.length() == 0 ? "" : ", ").append(s.stage().name().toLowerCase().replace('_', '-'))
                        .append(" seq ").append(s.lastSequence()).append(" (acked ").append(s.acknowledgedSequence())
                        .append(')');
            }
        }
        return sb.toString();
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md = digest();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String sha256(BlockDevice device) throws IOException {
        MessageDigest md = digest();
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        long size = device.size();
        for (long pos = 0; pos < size; pos += CHUNK) {
            buf.clear().limit((int) Math.min(CHUNK, size - pos));
            device.read(pos, buf);
            buf.flip();
            md.update(buf);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
