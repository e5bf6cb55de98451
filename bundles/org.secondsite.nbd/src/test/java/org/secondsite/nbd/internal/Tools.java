package org.secondsite.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;


import org.junit.jupiter.api.Assumptions;

/**
 * Runs outside tools (qemu-io, nbdcopy, nbdinfo, stat) for the interoperability tests.
 */
final class Tools {
    private Tools() {
    }

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    static void assumeTool(String tool) {
        Assumptions.assumeTrue(onPath(tool), tool + " is not installed (PATH=" + System.getenv("PATH")
                + "); install it to run this interoperability test");
    }

    /** Runs {@code command}, fails the test if it does not exit with 0 in time, returns stdout+stderr. */
    static String run(long timeoutSeconds, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out;
        try {
            out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "timed out: " + command);
        } finally {
            p.destroyForcibly();
        }
        String output = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + output);
        return output;
    }

    static String run(long timeoutSeconds, String... command) throws IOException, InterruptedException {
        return run(timeoutSeconds, List.of(command));
    }

    /**
     * Runs {@code command} for clean-up: never throws and never fails the test; returns the exit code
     * (-1 when it could not run or did not end in time) and prints what went wrong.
     */
    static int runQuietly(long timeoutSeconds, String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    System.err.println("clean-up timed out: " + String.join(" ", command));
                    return -1;
                }
                return p.exitValue();
            } finally {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            System.err.println("clean-up could not run " + String.join(" ", command) + ": " + e);
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Exit code and output (stdout and stderr) of a command expected to fail. */
    record Result(int exit, String output) {
    }

    /** Runs {@code command} whatever its exit code; fails the test only if it does not end in time. */
    static Result attempt(long timeoutSeconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out;
        try {
            out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), "timed out: " + List.of(command));
        } finally {
            p.destroyForcibly();
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
