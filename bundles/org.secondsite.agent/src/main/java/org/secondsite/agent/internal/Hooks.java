package org.secondsite.agent.internal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Runs hook commands and {@code fsfreeze} with a timeout, killing the whole process tree at it. */
final class Hooks {
    /** Bytes of a hook's output kept for the outcome. */
    static final int TAIL_BYTES = 2048;

    private Hooks() {
    }

    /** Runs a shell command ({@code /bin/sh -c command}). */
    static TagResult.HookRun shell(String phase, String command, Map<String, String> env, Duration timeout) {
        return run(phase, List.of("/bin/sh", "-c", command), command, env, timeout);
    }

    /**
     * Runs {@code argv} with {@code env} added to the agent's environment, standard input empty and
     * standard output and error into a temporary file; waits at most {@code timeout}, then kills it
     * and every process it started (descendants first, then itself).
     */
    static TagResult.HookRun run(String phase, List<String> argv, String display, Map<String, String> env,
                                 Duration timeout) {
        long t0 = System.nanoTime();
        Path out = null;
        try {
            out = Files.createTempFile("secondsite-hook-", ".out");
            ProcessBuilder pb = new ProcessBuilder(argv);
            pb.environment().putAll(env);
            pb.redirectErrorStream(true);
            pb.redirectOutput(out.toFile());
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Process p = pb.start();
            boolean exited;
            try {
                exited = p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exited = false;
            }
            if (!exited) {
                killTree(p);
                String t = tail(out);
                return new TagResult.HookRun(phase, display, -1, true, Duration.ofNanos(System.nanoTime() - t0),
                        t + (t.isEmpty() ? "" : "\n") + "killed after " + timeout.toMillis() + " ms (timeout)");
            }
            return new TagResult.HookRun(phase, display, p.exitValue(), false, Duration.ofNanos(System.nanoTime() - t0),
                    tail(out));
        } catch (IOException e) {
            return new TagResult.HookRun(phase, display, -1, false, Duration.ofNanos(System.nanoTime() - t0),
                    "cannot run: " + e.getMessage());
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException e) {
                    // a temporary file left behind; nothing else to do
                }
            }
        }
    }

    /** Kills {@code p} and its descendants (collected first: once a parent dies they are re-parented). */
    static void killTree(Process p) {
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        for (ProcessHandle h : tree) {
            h.destroyForcibly();
        }
        p.destroyForcibly();
        for (ProcessHandle h : p.descendants().toList()) { // started while we were killing
            h.destroyForcibly();
        }
        try {
            p.waitFor(5, TimeUnit.SECONDS);
            for (ProcessHandle h : tree) {
                h.onExit().get(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // a process that does not die of SIGKILL (uninterruptible sleep): nothing more to do
        }
    }

    /** The last {@link #TAIL_BYTES} of a file as text. */
    static String tail(Path file) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            int n = (int) Math.min(len, TAIL_BYTES);
            byte[] b = new byte[n];
            f.seek(len - n);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** The executable {@code program}: itself if it is a path, else looked up in PATH, /sbin and /usr/sbin. */
    static Optional<Path> find(String program) {
        if (program.contains("/")) {
            Path p = Path.of(program);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.add("/sbin");
        dirs.add("/usr/sbin");
        for (String d : dirs) {
            if (!d.isEmpty()) {
                Path p = Path.of(d, program);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }
}
