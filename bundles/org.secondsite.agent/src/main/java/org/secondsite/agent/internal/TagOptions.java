package org.secondsite.agent.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

import org.secondsite.wire.WireProtocol;

/**
 * Settings of the {@link Tagger}: application hooks, filesystem freezing and the write hold.
 *
 * @param preFreeze commands run (each with {@code /bin/sh -c}) before an APPLICATION tag, in order;
 *        the first that fails (exit code not 0, or timeout) refuses the tag
 * @param postThaw commands run after an APPLICATION tag, in order, always (also when a pre-freeze
 *        hook or a freeze failed); a failure is reported but does not void the tag
 * @param freezeMounts Linux mount points frozen with {@code fsfreeze --freeze} after the pre-freeze
 *        hooks and thawed with {@code fsfreeze --unfreeze} before the post-thaw hooks (skipped, with a
 *        note, where {@code fsfreeze} does not exist)
 * @param fsfreeze the {@code fsfreeze} program: a path, or a name looked up in {@code PATH},
 *        {@code /sbin} and {@code /usr/sbin}
 * @param hookTimeout the longest a hook or one {@code fsfreeze} may run; then it and every process it
 *        started are killed and the tag is refused
 * @param hold the longest the writes of a group are held for a coordinated (cross-machine) tag,
 *        1 ms .. 60 s; a process server's TAG_PREPARE may ask less, never more
 * @param recentNames tag names remembered per group; a new tag whose name is among them is refused
 */
public record TagOptions(List<String> preFreeze, List<String> postThaw, List<Path> freezeMounts, String fsfreeze,
                         Duration hookTimeout, Duration hold, int recentNames) {

    public static final Duration DEFAULT_HOOK_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_HOLD = Duration.ofMillis(2000);
    public static final int DEFAULT_RECENT_NAMES = 256;

    public TagOptions {
        preFreeze = List.copyOf(preFreeze);
        postThaw = List.copyOf(postThaw);
        freezeMounts = List.copyOf(freezeMounts);
        Objects.requireNonNull(fsfreeze, "fsfreeze");
        for (String c : preFreeze) {
            checkCommand("preFreezeHooks", c);
        }
        for (String c : postThaw) {
            checkCommand("postThawHooks", c);
        }
        for (Path m : freezeMounts) {
            if (!m.isAbsolute()) {
                throw new IllegalArgumentException("freezeMounts: '" + m + "' is not an absolute mount point path");
            }
        }
        if (hookTimeout.compareTo(Duration.ofMillis(100)) < 0 || hookTimeout.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("hook timeout must be 100 ms .. 1 h (hookTimeoutMillis 100..3600000), was "
                    + hookTimeout.toMillis() + " ms");
        }
        if (hold.compareTo(Duration.ofMillis(1)) < 0 || hold.toMillis() > WireProtocol.MAX_TAG_HOLD_MILLIS) {
            throw new IllegalArgumentException("tag hold must be 1.." + WireProtocol.MAX_TAG_HOLD_MILLIS
                    + " ms (tagHoldMillis), was " + hold.toMillis() + " ms");
        }
        if (recentNames < 1 || recentNames > 100_000) {
            throw new IllegalArgumentException("recentTagNames must be 1..100000, was " + recentNames);
        }
    }

    private static void checkCommand(String what, String c) {
        if (c == null || c.isBlank()) {
            throw new IllegalArgumentException(what + ": an empty command; list shell commands, e.g. "
                    + "'/etc/secondsite/pre-freeze.sh'");
        }
    }

    /** No hooks, no mounts, the default timeout, hold and memory of names. */
    public static TagOptions defaults() {
        return new TagOptions(List.of(), List.of(), List.of(), "fsfreeze", DEFAULT_HOOK_TIMEOUT, DEFAULT_HOLD,
                DEFAULT_RECENT_NAMES);
    }

    public TagOptions withHooks(List<String> pre, List<String> post) {
        return new TagOptions(pre, post, freezeMounts, fsfreeze, hookTimeout, hold, recentNames);
    }

    public TagOptions withFreezeMounts(List<Path> mounts) {
        return new TagOptions(preFreeze, postThaw, mounts, fsfreeze, hookTimeout, hold, recentNames);
    }

    public TagOptions withHookTimeout(Duration timeout) {
        return new TagOptions(preFreeze, postThaw, freezeMounts, fsfreeze, timeout, hold, recentNames);
    }

    public TagOptions withHold(Duration h) {
        return new TagOptions(preFreeze, postThaw, freezeMounts, fsfreeze, hookTimeout, h, recentNames);
    }

    public TagOptions withRecentNames(int n) {
        return new TagOptions(preFreeze, postThaw, freezeMounts, fsfreeze, hookTimeout, hold, n);
    }
}
