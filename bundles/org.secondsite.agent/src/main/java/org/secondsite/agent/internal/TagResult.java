package org.secondsite.agent.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

/**
 * The outcome of a tag request ({@link Tagger#tag}).
 *
 * @param status whether the tag entered the streams
 * @param group the group asked for
 * @param name the tag's name
 * @param kind the tag's kind
 * @param tagId the tag's id (also for a refused tag, for the log)
 * @param time the tag's time: when the group's writes were excluded
 * @param disks the disks of the group that got the tag (empty unless {@link Status#TAGGED})
 * @param message empty when all went well; otherwise why the tag was refused, or notes (a
 *        post-thaw hook that failed, mounts not frozen for lack of {@code fsfreeze})
 * @param hold how long the group's writes were excluded
 * @param hooks every hook and {@code fsfreeze} run, in order
 */
public record TagResult(Status status, GroupId group, String name, TagKind kind, UUID tagId, Instant time,
                        List<DiskId> disks, String message, Duration hold, List<HookRun> hooks) {

    /** Whether a tag entered the streams. */
    public enum Status {
        /** The tag is in the stream of every disk of the group (here). */
        TAGGED,
        /** Nothing was inserted; {@link #message()} says why. */
        REFUSED
    }

    public TagResult {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(message, "message");
        disks = List.copyOf(disks);
        hooks = List.copyOf(hooks);
    }

    public boolean ok() {
        return status == Status.TAGGED;
    }

    /** One or two lines for an operator. */
    public String summary() {
        StringBuilder b = new StringBuilder();
        if (ok()) {
            b.append("Tagged ").append(group).append(" '").append(name).append("' (").append(kind).append(", id ")
                    .append(tagId).append(") on ").append(disks.size()).append(" disk(s) ").append(disks)
                    .append("; writes excluded for ").append(micros(hold)).append(" µs");
        } else {
            b.append("Tag '").append(name).append("' of ").append(group).append(" refused: ").append(message);
        }
        if (!hooks.isEmpty()) {
            b.append(ok() && !message.isEmpty() ? "; " + message : "").append(System.lineSeparator()).append("  hooks: ");
            for (int i = 0; i < hooks.size(); i++) {
                b.append(i == 0 ? "" : ", ").append(hooks.get(i).brief());
            }
        } else if (ok() && !message.isEmpty()) {
            b.append(System.lineSeparator()).append("  ").append(message);
        }
        return b.toString();
    }

    private static long micros(Duration d) {
        return d.toNanos() / 1000;
    }

    /**
     * One hook or {@code fsfreeze} run.
     *
     * @param phase {@code pre-freeze}, {@code freeze}, {@code thaw} or {@code post-thaw}
     * @param command the command line
     * @param exitCode its exit code; -1 when it timed out or could not start
     * @param timedOut whether it was killed at the timeout (with every process it started)
     * @param took how long it ran
     * @param output the tail of its standard output and error (at most 2 KiB), or why it could not start
     */
    public record HookRun(String phase, String command, int exitCode, boolean timedOut, Duration took, String output) {
        public boolean ok() {
            return exitCode == 0 && !timedOut;
        }

        /** {@code phase 'command' -> exit 0 (12 ms)}, and the output's last line when it failed. */
        public String brief() {
            String outcome = timedOut ? "killed at timeout" : exitCode < 0 ? "did not start" : "exit " + exitCode;
            String s = phase + " '" + command + "' -> " + outcome + " (" + took.toMillis() + " ms)";
            if (!ok() && !output.isBlank()) {
                String[] lines = output.strip().split("\\R");
                s += ": " + lines[lines.length - 1];
            }
            return s;
        }
    }
}
