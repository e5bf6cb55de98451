package org.secondsite.api.capture;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

import org.secondsite.api.model.DiskId;

/**
 * What to capture.
 *
 * @param disk the protected disk's identity
 * @param source the disk as the agent sees it: a file or a block device
 * @param options driver-specific settings (e.g. {@code blockSize}, {@code interval},
 *        {@code listen}); unknown keys are an error so typos do not pass silently
 */
public record CaptureSpec(DiskId disk, Path source, Map<String, String> options) {
    public CaptureSpec {
        Objects.requireNonNull(disk, "disk");
        Objects.requireNonNull(source, "source");
        options = Map.copyOf(options);
    }
}
