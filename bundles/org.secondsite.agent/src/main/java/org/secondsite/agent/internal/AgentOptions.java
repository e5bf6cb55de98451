package org.secondsite.agent.internal;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

import org.secondsite.wire.WireProtocol;

/**
 * Settings of an {@link Agent}.
 *
 * @param processServer where the process server listens
 * @param transport name of the transport service to use (e.g. {@code tls})
 * @param compressor compressor for the agent to process server hop (default {@code none}:
 *        the process server compresses for the WAN); used only if the process server lists it
 * @param batchBytes a batch is cut when it holds this many bytes of data (at most 16 MiB)
 * @param batchAge a batch is cut when its first change is this old
 * @param bufferBytes bound on the bytes of changes held in memory (open, sealed and not yet
 *        acknowledged batches); {@code accept()} blocks beyond it
 * @param windowBytes bound on the bytes of batch frames sent and not yet acknowledged
 * @param dataDir where the agent keeps its state file
 * @param heartbeat idle interval after which a heartbeat is sent; the peer is lost after three
 * @param connectTimeout connection and handshake timeout
 * @param backoffMin first reconnect delay
 * @param backoffMax cap of the exponential reconnect delay
 * @param tracking tiered change tracking: dirty-region log, change cache, bitmap mode
 * @param checkpointInterval every this often each consistency group with writes since its last
 *        checkpoint gets a CHECKPOINT tag on all its disks: 100 ms .. 1 h, or {@link Duration#ZERO}
 *        for none (tools and tests only; the configuration always sets one)
 */
public record AgentOptions(InetSocketAddress processServer, String transport, String compressor, int batchBytes,
                           Duration batchAge, long bufferBytes, long windowBytes, Path dataDir, Duration heartbeat,
                           Duration connectTimeout, Duration backoffMin, Duration backoffMax,
                           TrackingOptions tracking, Duration checkpointInterval) {

    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(1);
    public static final Duration MIN_CHECKPOINT_INTERVAL = Duration.ofMillis(100);
    public static final Duration MAX_CHECKPOINT_INTERVAL = Duration.ofHours(1);

    public static final int DEFAULT_BATCH_BYTES = 4 << 20;
    public static final Duration DEFAULT_BATCH_AGE = Duration.ofMillis(50);
    public static final long DEFAULT_BUFFER_BYTES = 256L << 20;
    public static final long DEFAULT_WINDOW_BYTES = 64L << 20;

    public AgentOptions {
        Objects.requireNonNull(processServer, "processServer");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(compressor, "compressor");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(tracking, "tracking");
        Objects.requireNonNull(checkpointInterval, "checkpointInterval");
        if (!checkpointInterval.isZero() && (checkpointInterval.compareTo(MIN_CHECKPOINT_INTERVAL) < 0
                || checkpointInterval.compareTo(MAX_CHECKPOINT_INTERVAL) > 0)) {
            throw new IllegalArgumentException("checkpoint interval must be 100 ms .. 1 h (checkpointMillis 100.."
                    + MAX_CHECKPOINT_INTERVAL.toMillis() + "), was " + checkpointInterval.toMillis() + " ms");
        }
        if (batchBytes < 4096 || batchBytes > WireProtocol.MAX_PAYLOAD) {
            throw new IllegalArgumentException("batch size must be 4096.." + WireProtocol.MAX_PAYLOAD + " bytes, was "
                    + batchBytes);
        }
        if (batchAge.isNegative() || batchAge.isZero()) {
            throw new IllegalArgumentException("batch age must be positive, was " + batchAge);
        }
        if (bufferBytes < 2L * batchBytes) {
            throw new IllegalArgumentException("buffer (" + bufferBytes + " bytes) must hold at least two batches of "
                    + batchBytes + " bytes");
        }
        if (windowBytes < WireProtocol.MAX_FRAME_SIZE) {
            throw new IllegalArgumentException("window (" + windowBytes + " bytes) must hold at least one frame of "
                    + WireProtocol.MAX_FRAME_SIZE + " bytes");
        }
        for (Duration d : new Duration[] {heartbeat, connectTimeout, backoffMin, backoffMax}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("durations must be positive: " + d);
            }
        }
        if (backoffMax.compareTo(backoffMin) < 0) {
            throw new IllegalArgumentException("backoffMax " + backoffMax + " is below backoffMin " + backoffMin);
        }
        if (tracking.spillBytes() != 0 && tracking.spillBytes() < 2L * batchBytes) {
            throw new IllegalArgumentException("spillBytes (" + tracking.spillBytes() + ") must be 0 (no change cache)"
                    + " or hold at least two batches of " + batchBytes + " bytes");
        }
    }

    /** Options with the default checkpoint interval. */
    public AgentOptions(InetSocketAddress processServer, String transport, String compressor, int batchBytes,
                        Duration batchAge, long bufferBytes, long windowBytes, Path dataDir, Duration heartbeat,
                        Duration connectTimeout, Duration backoffMin, Duration backoffMax, TrackingOptions tracking) {
        this(processServer, transport, compressor, batchBytes, batchAge, bufferBytes, windowBytes, dataDir, heartbeat,
                connectTimeout, backoffMin, backoffMax, tracking, DEFAULT_CHECKPOINT_INTERVAL);
    }

    /** Options with the default change tracking. */
    public AgentOptions(InetSocketAddress processServer, String transport, String compressor, int batchBytes,
                        Duration batchAge, long bufferBytes, long windowBytes, Path dataDir, Duration heartbeat,
                        Duration connectTimeout, Duration backoffMin, Duration backoffMax) {
        this(processServer, transport, compressor, batchBytes, batchAge, bufferBytes, windowBytes, dataDir, heartbeat,
                connectTimeout, backoffMin, backoffMax, TrackingOptions.defaults());
    }

    /** Defaults for everything but the process server address and the data directory. */
    public static AgentOptions defaults(InetSocketAddress processServer, Path dataDir) {
        return new AgentOptions(processServer, "tls", "none", DEFAULT_BATCH_BYTES, DEFAULT_BATCH_AGE,
                DEFAULT_BUFFER_BYTES, DEFAULT_WINDOW_BYTES, dataDir, Duration.ofSeconds(5), Duration.ofSeconds(10),
                Duration.ofMillis(200), Duration.ofSeconds(30));
    }

    public AgentOptions withBatching(int bytes, Duration age) {
        return new AgentOptions(processServer, transport, compressor, bytes, age, bufferBytes, windowBytes, dataDir,
                heartbeat, connectTimeout, backoffMin, backoffMax, tracking, checkpointInterval);
    }

    public AgentOptions withBufferBytes(long bytes) {
        return new AgentOptions(processServer, transport, compressor, batchBytes, batchAge, bytes, windowBytes, dataDir,
                heartbeat, connectTimeout, backoffMin, backoffMax, tracking, checkpointInterval);
    }

    public AgentOptions withCompressor(String name) {
        return new AgentOptions(processServer, transport, name, batchBytes, batchAge, bufferBytes, windowBytes, dataDir,
                heartbeat, connectTimeout, backoffMin, backoffMax, tracking, checkpointInterval);
    }

    public AgentOptions withBackoff(Duration min, Duration max) {
        return new AgentOptions(processServer, transport, compressor, batchBytes, batchAge, bufferBytes, windowBytes,
                dataDir, heartbeat, connectTimeout, min, max, tracking, checkpointInterval);
    }

    public AgentOptions withTracking(TrackingOptions t) {
        return new AgentOptions(processServer, transport, compressor, batchBytes, batchAge, bufferBytes, windowBytes,
                dataDir, heartbeat, connectTimeout, backoffMin, backoffMax, t, checkpointInterval);
    }

    /** The same options with another checkpoint interval ({@link Duration#ZERO}: no checkpoints). */
    public AgentOptions withCheckpointInterval(Duration interval) {
        return new AgentOptions(processServer, transport, compressor, batchBytes, batchAge, bufferBytes, windowBytes,
                dataDir, heartbeat, connectTimeout, backoffMin, backoffMax, tracking, interval);
    }
}
