package org.secondsite.agent.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.agent.internal.shell.UnusedAgentService;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;

/** A disk's configuration changes: a raised resync counter resyncs in place; other changes re-protect. */
class DiskComponentTest {
    @TempDir
    Path dir;

    final List<String> calls = new ArrayList<>();

    final class RecordingAgent extends UnusedAgentService {
        RecordingAgent() {
            super("DiskComponent");
        }

        @Override
        public ChangeSink protect(DiskId disk, GroupId group, long size) {
            calls.add("protect " + disk + " " + group + " " + size);
            return null; // no driver is bound in these tests, so nothing writes to it
        }

        @Override
        public void unprotect(DiskId disk) {
            calls.add("unprotect " + disk);
        }

        @Override
        public void requestResync(DiskId disk, String reason) {
            calls.add("resync " + disk + ": " + reason);
        }

        @Override
        public void sourceProblem(DiskId disk, Supplier<String> problem) {
            calls.add("problem " + disk);
        }
    }

    static DiskConfig config(String diskId, Path source, long resyncRequest) {
        return new DiskConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return DiskConfig.class;
            }

            @Override
            public String diskId() {
                return diskId;
            }

            @Override
            public String group() {
                return "";
            }

            @Override
            public String source() {
                return source.toString();
            }

            @Override
            public String driver() {
                return "nbd";
            }

            @Override
            public long resyncRequest() {
                return resyncRequest;
            }
        };
    }

    @Test
    void aRaisedResyncCounterResyncsWithoutRestartingAndOtherChangesReprotect() throws Exception {
        Path a = Files.write(dir.resolve("a.img"), new byte[8192]);
        Path b = Files.write(dir.resolve("b.img"), new byte[4096]);
        Map<String, Object> props = Map.of("capture.listen", "127.0.0.1:10809");
        DiskComponent c = new DiskComponent(config("web01:disk0", a, 3), props, new RecordingAgent());
        assertEquals(List.of("protect web01:disk0 web01:disk0 8192"), calls, "activation with a counter: no resync");
        calls.clear();

        c.modified(config("web01:disk0", a, 3), props);
        assertEquals(List.of(), calls, "same configuration: nothing");
        c.modified(config("web01:disk0", a, 4), props);
        assertEquals(List.of("resync web01:disk0: requested by the configuration server (request 4)"), calls);
        calls.clear();

        c.modified(config("web01:disk0", b, 4), props);
        assertEquals(List.of("unprotect web01:disk0", "protect web01:disk0 web01:disk0 4096"), calls,
                "a new source re-protects");
        calls.clear();
        c.modified(config("web01:disk0", b, 4), Map.of("capture.listen", "127.0.0.1:10900"));
        assertEquals(List.of("unprotect web01:disk0", "protect web01:disk0 web01:disk0 4096"), calls,
                "new capture options re-protect");
        calls.clear();
        c.deactivate();
        assertEquals(List.of("unprotect web01:disk0"), calls);
    }
}
