package org.secondsite.capture.nbd.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

import org.secondsite.nbd.NbdProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the source disk of an export works, as {@link org.secondsite.api.capture.CaptureSession#problem()}
 * reports it. Pure logic over the exceptions the file channel throws; no I/O except {@link #checkIdentity()}.
 *
 * <p>Each kind of operation (reads, writes, flushes) has its own slot: a failure fills it, the next
 * success of the same kind empties it. So a source that turned read-only stays reported while reads
 * keep working, and the report goes away once a write succeeds again. A problem is logged when it
 * appears or changes and when it goes away, never per request.
 *
 * <p>Separately, {@link #checkIdentity()} compares the file the export opened with what its path names
 * now: a deleted or replaced file is reported (the export keeps serving the file it opened, whose data
 * is intact, rather than failing a workload whose disk still works).
 *
 * <p>The classification reads the {@code strerror} text Java puts in the exception message (Java gives
 * no errno); an unknown message is an I/O failure, answered with {@code EIO}.
 */
final class SourceHealth {
    private static final Logger LOG = LoggerFactory.getLogger(SourceHealth.class);

    /** The kinds of source operation, each with its own problem slot. */
    enum Op {
        READ("reads"), WRITE("writes"), FLUSH("flushes");

        final String plural;

        Op(String plural) {
            this.plural = plural;
        }
    }

    /** What a failure says about the source. */
    enum Kind {
        /** EROFS, EPERM, EACCES: the disk refuses writes (file system remounted read-only, immutable file, blockdev --setro). */
        READ_ONLY,
        /** ENOSPC, EDQUOT, EFBIG: the file system under a file source is full. */
        FULL,
        /** ENXIO, ENODEV, ESTALE, ENOTCONN, ENOENT: the device or file system behind the source is gone. */
        VANISHED,
        /** End of file inside the exported size: the source was truncated underneath. */
        SHRUNK,
        /** Anything else, EIO first of all. */
        FAILING
    }

    private final String export;
    private final Path path;
    private final boolean device;
    /** {@code fileKey()} of the source when it was opened; null where the file system has none. */
    private final Object identity;

    private volatile Problem reads;
    private volatile Problem writes;
    private volatile Problem flushes;
    private volatile String identityProblem;

    /** A failure of one kind of operation: {@code head} says what is wrong, e.g. "source P vanished (R)". */
    private record Problem(Kind kind, String head, Op op) {
        /** The report of {@code ops} failing with this problem, e.g. "...: reads and writes fail". */
        String text(List<Op> ops) {
            if (ops.size() == 1 && ops.get(0) == Op.WRITE && kind == Kind.READ_ONLY) {
                return head + ": writes are refused";
            }
            StringBuilder b = new StringBuilder(head).append(": ");
            for (int i = 0; i < ops.size(); i++) {
                b.append(i == 0 ? "" : i == ops.size() - 1 ? " and " : ", ").append(ops.get(i).plural);
            }
            return b.append(" fail").toString();
        }
    }

    SourceHealth(String export, Path path, boolean device, Object identity) {
        this.export = export;
        this.path = path;
        this.device = device;
        this.identity = identity;
    }

    /** Health of {@code path}, which the caller has just opened: its identity is taken now. */
    static SourceHealth of(String export, Path path) throws IOException {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        return new SourceHealth(export, path, !a.isRegularFile(), a.fileKey());
    }

    static Kind classify(IOException e) {
        if (e instanceof EOFException) {
            return Kind.SHRUNK;
        }
        if (e instanceof AccessDeniedException) {
            return Kind.READ_ONLY;
        }
        if (e instanceof NoSuchFileException) {
            return Kind.VANISHED;
        }
        String m = String.valueOf(e.getMessage());
        if (m.contains("Read-only file system") || m.contains("Operation not permitted")
                || m.contains("Permission denied")) {
            return Kind.READ_ONLY;
        }
        if (m.contains("No space left on device") || m.contains("Disk quota exceeded") || m.contains("File too large")) {
            return Kind.FULL;
        }
        if (m.contains("No such device") || m.contains("Stale file handle") || m.contains("not connected")
                || m.contains("No such file or directory")) {
            return Kind.VANISHED; // "No such device" also matches ENXIO's "No such device or address"
        }
        return Kind.FAILING;
    }

    /**
     * The NBD error for a failed {@code op}: {@code EPERM} for a write to a read-only source (NBD has no
     * EROFS; EPERM is what the spec asks of read-only exports), {@code ENOSPC} for a full one, else
     * {@code EIO}. A failed flush is always {@code EIO}: data written before may not be durable.
     */
    static int nbdError(Op op, Kind kind) {
        if (op == Op.WRITE && kind == Kind.READ_ONLY) {
            return NbdProtocol.EPERM;
        }
        if (op == Op.WRITE && kind == Kind.FULL) {
            return NbdProtocol.ENOSPC;
        }
        return NbdProtocol.EIO;
    }

    /**
     * Records that {@code op} failed with {@code e}; logs the problem if it is new. Returns the failure
     * to throw, which carries the NBD error for the client.
     */
    SourceFailure failed(Op op, IOException e) {
        Kind kind = classify(e);
        String reason = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        String head = "source " + path + switch (kind) {
            case READ_ONLY -> op == Op.WRITE ? " turned read-only" : " refuses access";
            case FULL -> " is out of space";
            case VANISHED -> " vanished";
            case SHRUNK -> " is shorter than the exported size";
            case FAILING -> " is failing";
        } + " (" + reason + ")";
        Problem problem = new Problem(kind, head, op);
        String text = problem.text(List.of(op));
        boolean changed;
        synchronized (this) {
            changed = !problem.equals(slot(op));
            if (changed) {
                set(op, problem);
            }
        }
        if (changed) {
            LOG.error("NBD export '{}': {}; each such request gets an error, the export stays up and every change "
                    + "tracked so far is kept", export, text);
        }
        if (kind == Kind.VANISHED || kind == Kind.FAILING) {
            checkIdentity();
        }
        return new SourceFailure(text, nbdError(op, kind), e);
    }

    /** Records that {@code op} succeeded: clears its problem. Costs one volatile read while healthy. */
    void ok(Op op) {
        if (slot(op) != null) {
            Problem was;
            synchronized (this) {
                was = slot(op);
                set(op, null);
            }
            if (was != null) {
                LOG.info("NBD export '{}': source {} works again: {} succeed (was: {})", export, path, op.plural,
                        was.text(List.of(op)));
            }
        }
    }

    /**
     * Compares the opened file with what the path names now (one {@code stat}); reports a deleted or
     * replaced source, and clears that report when the path names the opened file again. A {@code stat}
     * that fails otherwise (a dead mount) changes nothing: the failing reads and writes report that.
     */
    void checkIdentity() {
        if (identity == null) {
            return;
        }
        String problem;
        try {
            Object now = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            problem = identity.equals(now) ? null
                    : device ? "source " + path + " now names another device; the export still serves the one it opened"
                    : "source file " + path + " was replaced by another file; the export still serves the file it opened";
        } catch (NoSuchFileException e) {
            problem = device ? "source device " + path + " vanished (its device node is gone)"
                    : "source file " + path + " was deleted; the export still serves the open file, whose data is "
                    + "freed when capture stops";
        } catch (IOException e) {
            // e.g. ENOTCONN on a dead FUSE mount: failing reads and writes report that; keep what was found
            LOG.debug("NBD export '{}': cannot stat the source {}: {}", export, path, e.toString());
            return;
        }
        String was;
        synchronized (this) {
            was = identityProblem;
            identityProblem = problem;
        }
        if (problem != null && !problem.equals(was)) {
            LOG.error("NBD export '{}': {}", export, problem);
        } else if (problem == null && was != null) {
            LOG.info("NBD export '{}': source {} names the exported file again (was: {})", export, path, was);
        }
    }

    /** What {@link #checkIdentity()} found last: null while the path names the opened file (or cannot tell). */
    String identityProblem() {
        return identityProblem;
    }

    /**
     * The current problems, joined with "; ", operations failing for the same reason named together
     * (e.g. "source /dev/sdb vanished (No such device or address): reads, writes and flushes fail");
     * empty while the source is healthy.
     */
    String problem() {
        List<String> all = new ArrayList<>(4);
        String moved = identityProblem;
        if (moved != null) {
            all.add(moved);
        }
        Problem[] slots = {reads, writes, flushes};
        for (int i = 0; i < slots.length; i++) {
            Problem p = slots[i];
            if (p == null) {
                continue;
            }
            List<Op> ops = new ArrayList<>(3);
            for (int j = i; j < slots.length; j++) {
                if (slots[j] != null && slots[j].kind() == p.kind() && slots[j].head().equals(p.head())) {
                    ops.add(slots[j].op());
                    if (j > i) {
                        slots[j] = null;
                    }
                }
            }
            all.add(p.text(ops));
        }
        return String.join("; ", all);
    }

    private Problem slot(Op op) {
        return switch (op) {
            case READ -> reads;
            case WRITE -> writes;
            case FLUSH -> flushes;
        };
    }

    private void set(Op op, Problem problem) {
        switch (op) {
            case READ -> reads = problem;
            case WRITE -> writes = problem;
            case FLUSH -> flushes = problem;
        }
    }
}
