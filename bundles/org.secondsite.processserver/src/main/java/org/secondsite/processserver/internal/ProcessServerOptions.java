package org.secondsite.processserver.internal;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

import org.secondsite.processserver.internal.throttle.BandwidthSchedule;
import org.secondsite.wire.WireProtocol;

/**
 * Settings of a {@link ProcessServer}.
 *
 * @param listen where the receiver listens for agents
 * @param masterTarget where the master target listens
 * @param transport name of the transport service (e.g. {@code tls})
 * @param wanCompressor compressor the batches are spooled and forwarded with (e.g. {@code lz4});
 *        when it is not available, batches are spooled as the agent sent them
 * @param spoolDir directory of the spool segments and {@code processserver.state}
 * @param spoolMaxBytes bound of the spool's size on disk
 * @param spoolSegmentBytes size of one spool segment file
 * @param schedule bandwidth limit towards the master target
 * @param windowBytes bound on bytes forwarded and not yet acknowledged by the master target
 * @param heartbeat idle interval of heartbeats; the peer is lost after three
 * @param connectTimeout connection and handshake timeout
 * @param backoffMin first reconnect delay
 * @param backoffMax cap of the exponential reconnect delay
 */
public record ProcessServerOptions(InetSocketAddress listen, InetSocketAddress masterTarget, String transport,
                                   String wanCompressor, Path spoolDir, long spoolMaxBytes, long spoolSegmentBytes,
                                   BandwidthSchedule schedule, long windowBytes, Duration heartbeat,
                                   Duration connectTimeout, Duration backoffMin, Duration backoffMax) {
    public ProcessServerOptions {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(masterTarget, "masterTarget");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(wanCompressor, "wanCompressor");
        Objects.requireNonNull(spoolDir, "spoolDir");
        Objects.requireNonNull(schedule, "schedule");
        if (windowBytes < WireProtocol.MAX_FRAME_SIZE) {
            throw new IllegalArgumentException("window (" + windowBytes + " bytes) must hold at least one frame of "
                    + WireProtocol.MAX_FRAME_SIZE + " bytes");
        }
        if (spoolMaxBytes < spoolSegmentBytes) {
            throw new IllegalArgumentException("spool max bytes (" + spoolMaxBytes + ") must be at least one segment ("
                    + spoolSegmentBytes + " bytes)");
        }
    }

    public static ProcessServerOptions defaults(InetSocketAddress listen, InetSocketAddress masterTarget, Path spoolDir) {
        return new ProcessServerOptions(listen, masterTarget, "tls", "lz4", spoolDir, 20L << 30, 64L << 20,
                BandwidthSchedule.unlimited(), 64L << 20, Duration.ofSeconds(5), Duration.ofSeconds(10),
                Duration.ofMillis(200), Duration.ofSeconds(30));
    }

    public ProcessServerOptions withSpool(long maxBytes, long segmentBytes) {
        return new ProcessServerOptions(listen, masterTarget, transport, wanCompressor, spoolDir, maxBytes, segmentBytes,
                schedule, windowBytes, heartbeat, connectTimeout, backoffMin, backoffMax);
    }

    public ProcessServerOptions withWanCompressor(String name) {
        return new ProcessServerOptions(listen, masterTarget, transport, name, spoolDir, spoolMaxBytes,
                spoolSegmentBytes, schedule, windowBytes, heartbeat, connectTimeout, backoffMin, backoffMax);
    }

    public ProcessServerOptions withListen(InetSocketAddress address) {
        return new ProcessServerOptions(address, masterTarget, transport, wanCompressor, spoolDir, spoolMaxBytes,
                spoolSegmentBytes, schedule, windowBytes, heartbeat, connectTimeout, backoffMin, backoffMax);
    }

    public ProcessServerOptions withMasterTarget(InetSocketAddress address) {
        return new ProcessServerOptions(listen, address, transport, wanCompressor, spoolDir, spoolMaxBytes,
                spoolSegmentBytes, schedule, windowBytes, heartbeat, connectTimeout, backoffMin, backoffMax);
    }

    public ProcessServerOptions withBackoff(Duration min, Duration max) {
        return new ProcessServerOptions(listen, masterTarget, transport, wanCompressor, spoolDir, spoolMaxBytes,
                spoolSegmentBytes, schedule, windowBytes, heartbeat, connectTimeout, min, max);
    }
}
