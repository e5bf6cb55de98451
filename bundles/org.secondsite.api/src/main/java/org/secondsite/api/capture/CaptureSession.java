package org.secondsite.api.capture;

import java.io.Closeable;
import java.util.Map;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.storage.BlockDevice;

/** Capture of one disk in progress. Closing it stops capture and releases the disk. */
public interface CaptureSession extends Closeable {

    /** The captured disk. */
    DiskId disk();

    /**
     * The source disk for reading (resync reads its blocks from here). Reads see every
     * write acknowledged so far.
     */
    BlockDevice source();

    /**
     * Where the workload reaches the disk when the driver interposes on it (for {@code nbd},
     * an {@code nbd://host:port/export} URI); empty when it does not.
     */
    String endpoint();

    /** Driver counters for status displays (e.g. {@code writes}, {@code bytesWritten}, {@code scannedBytes}). */
    Map<String, Long> statistics();

    /**
     * What is wrong with the source now, for an operator: empty while the disk is healthy;
     * otherwise, for example, {@code "source /dev/sdb vanished (No such device)"} or
     * {@code "source turned read-only"}. Capture and change tracking continue across a problem:
     * writes the disk refused were not acknowledged, and nothing tracked before is dropped.
     */
    default String problem() {
        return "";
    }
}
