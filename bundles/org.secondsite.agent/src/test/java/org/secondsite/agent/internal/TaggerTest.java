package org.secondsite.agent.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.api.capture.ChangeSink;
import org.secondsite.api.model.ChangeRecord;
import org.secondsite.api.model.ConsistencyTag;
import org.secondsite.api.model.DeltaBatch;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

/** Tags with hooks: ok, failing, hanging (killed, refused, thawed), name clash, fsfreeze on a real ext4. */
class TaggerTest {
    static final DiskId A = CheckpointTest.A;
    static final DiskId B = CheckpointTest.B;
    static final GroupId APP = CheckpointTest.APP;
    static final Duration BUDGET = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Agent agent;
    private ChangeSink sinkA;

    private Tagger tagger(TagOptions options) throws Exception {
        agent = CheckpointTest.agent(dir.resolve("agent"), Duration.ZERO);
        sinkA = agent.protect(A, APP, 1 << 20);
        agent.protect(B, APP, 1 << 20);
        return new Tagger(agent, options, Clock.systemUTC());
    }

    private List<ConsistencyTag> tags(DiskId disk) {
        return agent.pendingBatches(disk).stream().flatMap(b -> b.tags().stream()).toList();
    }

    private String log() throws IOException {
        Path f = dir.resolve("hooks.log");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    private String logHook(String what) {
        return "echo \"" + what + " $SECONDSITE_TAG $SECONDSITE_GROUP $SECONDSITE_PHASE\" >> " + dir.resolve("hooks.log");
    }

    @Test
    void anApplicationTagRunsItsHooksAroundTheTagOnEveryDisk() throws Exception {
        try (Tagger t = tagger(TagOptions.defaults().withHooks(List.of(logHook("pre"), "echo quiesced"),
                List.of(logHook("post"))))) {
            sinkA.accept(ChangeRecord.write(0, ByteBuffer.allocate(4096)));
            TagResult r = t.tag(APP, "before-upgrade", TagKind.APPLICATION);
            assertTrue(r.ok(), r.summary());
            assertEquals(List.of(A, B), r.disks());
            assertEquals("pre before-upgrade app pre-freeze\npost before-upgrade app post-thaw\n", log());
            assertEquals(3, r.hooks().size());
            assertEquals("quiesced", r.hooks().get(1).output());
            ConsistencyTag onA = tags(A).get(0);
            assertEquals(List.of(onA), tags(B), "one tag on both disks");
            assertEquals(r.tagId(), onA.id());
            assertEquals(TagKind.APPLICATION, onA.kind());
            assertTrue(r.summary().startsWith("Tagged app 'before-upgrade' (APPLICATION"), r.summary());
            agent.close();
        }
    }

    @Test
    void aFailingPreFreezeHookRefusesTheTagAndThawStillRuns() throws Exception {
        try (Tagger t = tagger(TagOptions.defaults().withHooks(List.of("echo cannot flush the db >&2; exit 3",
                logHook("never")), List.of(logHook("post"))))) {
            TagResult r = t.tag(APP, "nightly", TagKind.APPLICATION);
            assertFalse(r.ok());
            assertTrue(r.message().contains("exit 3") && r.message().contains("cannot flush the db"), r.message());
            assertEquals("post nightly app post-thaw\n", log(), "the second pre-freeze hook did not run, post-thaw did");
            assertTrue(tags(A).isEmpty() && tags(B).isEmpty(), "no tag inserted");
            assertTrue(r.summary().contains("refused"), r.summary());
            agent.close();
        }
    }

    @Test
    void aHangingHookIsKilledWithItsChildrenAtTheTimeoutTheTagRefusedAndWritesNeverHeld() throws Exception {
        Path pid = dir.resolve("child.pid");
        String hang = "sleep 600 & echo $! > " + pid + "; wait";
        try (Tagger t = tagger(TagOptions.defaults().withHooks(List.of(hang), List.of(logHook("post")))
                .withHookTimeout(Duration.ofMillis(1500)))) {
            CompletableFuture<TagResult> f = CompletableFuture.supplyAsync(() -> t.tag(APP, "hang", TagKind.APPLICATION));
            await().atMost(BUDGET).until(() -> Files.exists(pid) && !Files.readString(pid).isBlank());
            long child = Long.parseLong(Files.readString(pid).strip());
            // while the hook runs, writes of the group go on
            sinkA.accept(ChangeRecord.write(0, ByteBuffer.allocate(4096)));
            assertFalse(f.isDone(), "the hook still runs");
            TagResult r = f.get(BUDGET.toSeconds(), TimeUnit.SECONDS);
            assertFalse(r.ok());
            assertTrue(r.hooks().get(0).timedOut(), r.summary());
            assertTrue(r.message().contains("killed at timeout"), r.message());
            await().atMost(BUDGET).until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
            assertEquals("post hang app post-thaw\n", log(), "thaw ran");
            assertTrue(tags(A).isEmpty());
            agent.close();
        }
    }

    @Test
    void aNameClashWithARecentTagOfTheGroupIsRefused() throws Exception {
        try (Tagger t = tagger(TagOptions.defaults().withRecentNames(2))) {
            assertTrue(t.tag(APP, "a", TagKind.BOOKMARK).ok());
            TagResult again = t.tag(APP, "a", TagKind.BOOKMARK);
            assertFalse(again.ok());
            assertTrue(again.message().contains("tag name 'a' clashes with a recent tag of group app"), again.message());
            assertTrue(t.tag(APP, "b", TagKind.BOOKMARK).ok());
            assertTrue(t.tag(APP, "c", TagKind.BOOKMARK).ok());
            assertTrue(t.tag(APP, "a", TagKind.BOOKMARK).ok(), "'a' is no longer among the last 2 names");
            assertEquals(4, tags(A).size());
            agent.close();
        }
    }

    @Test
    void badRequestsAreRefusedWithTheReason() throws Exception {
        try (Tagger t = tagger(TagOptions.defaults())) {
            TagResult unknown = t.tag(GroupId.of("nope"), "x", TagKind.BOOKMARK);
            assertTrue(unknown.message().contains("group nope has no disk protected by this agent"), unknown.message());
            TagResult badName = t.tag(APP, "", TagKind.BOOKMARK);
            assertTrue(badName.message().contains("tag name '' is not valid"), badName.message());
            TagResult checkpoint = t.tag(APP, "x", TagKind.CHECKPOINT);
            assertTrue(checkpoint.message().contains("checkpoints are taken by the agent itself"), checkpoint.message());
            assertTrue(tags(A).isEmpty());
            agent.close();
        }
    }

    /**
     * A real ext4 on a loop device, frozen by a coordinated APPLICATION tag (whose freeze lasts from
     * TAG_PREPARE to TAG_RELEASE, long enough to watch): a write to the filesystem blocks while it is
     * frozen and completes after the release thawed it; the tag is in both streams.
     */
    @Test
    void fsfreezeFreezesARealFilesystemUntilTheThaw() throws Exception {
        assumeTrue(ProcessHandle.current().info().user().map("root"::equals).orElse(false),
                "needs root to mount a loop filesystem");
        assumeTrue(Hooks.find("fsfreeze").isPresent() && Hooks.find("mkfs.ext4").isPresent()
                && Hooks.find("mount").isPresent(), "needs fsfreeze, mkfs.ext4 and mount");
        Path image = dir.resolve("fs.img");
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(32 << 20);
        }
        assertEquals(0, sh("mkfs.ext4 -q -F " + image));
        assumeTrue(sh("mount -o loop " + image + " " + mnt) == 0, "cannot loop-mount here (no loop devices?)");
        Path done = dir.resolve("write.done");
        try (Tagger t = tagger(TagOptions.defaults().withFreezeMounts(List.of(mnt)).withHold(Duration.ofSeconds(60))
                .withHooks(List.of(), List.of(logHook("post"))))) {
            ConsistencyTag tag = new ConsistencyTag(java.util.UUID.randomUUID(), "fs", TagKind.APPLICATION,
                    java.time.Instant.now());
            t.onMessage(new org.secondsite.wire.Message.TagPrepare(APP, tag, 60_000));
            await().atMost(BUDGET).until(() -> t.held().contains(tag.id()));
            CompletableFuture<Integer> write = CompletableFuture.supplyAsync(() -> sh("echo data > "
                    + mnt.resolve("file") + " && sync " + mnt.resolve("file") + " && touch " + done));
            assertFalse(awaitQuietly(() -> Files.exists(done), Duration.ofSeconds(1)),
                    "a write passed the frozen filesystem");
            t.onMessage(new org.secondsite.wire.Message.TagRelease(tag.id(), true));
            assertEquals(0, write.get(BUDGET.toSeconds(), TimeUnit.SECONDS), "the write completes after the thaw");
            assertEquals("data\n", Files.readString(mnt.resolve("file"), StandardCharsets.UTF_8));
            await().atMost(BUDGET).until(() -> log().contains("post fs app post-thaw"));
            assertEquals(List.of(new ConsistencyTag(tag.id(), tag.name(), tag.kind(),
                    tag.time().truncatedTo(java.time.temporal.ChronoUnit.MICROS))), tags(A));
            assertEquals(tags(A), tags(B));
            agent.close();
        } finally {
            sh("fsfreeze --unfreeze " + mnt + " 2>/dev/null");
            sh("umount " + mnt);
        }
    }

    /**
     * A coordinated hold without hooks: the group's writes wait from TAG_PREPARE; with no
     * TAG_RELEASE the agent releases by itself at the hold bound, inserts nothing, and the waiting
     * write goes on; a committed one puts the tag between the writes before and after the hold.
     */
    @Test
    void aCoordinatedHoldBlocksTheGroupsWritesAndEndsByItselfAtTheBound() throws Exception {
        try (Tagger t = tagger(TagOptions.defaults().withHold(Duration.ofMillis(2000)))) {
            ConsistencyTag lost = new ConsistencyTag(java.util.UUID.randomUUID(), "lost", TagKind.BOOKMARK,
                    java.time.Instant.now());
            t.onMessage(new org.secondsite.wire.Message.TagPrepare(APP, lost, 60_000));
            await().atMost(BUDGET).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2)).until(() -> agent.isHeld(APP));
            CompletableFuture<Void> w = CompletableFuture.runAsync(() -> write(sinkA, 0));
            await().atMost(BUDGET).until(w::isDone); // released by the agent at its 2 s bound, not by a RELEASE
            assertFalse(agent.isHeld(APP));
            assertTrue(tags(A).isEmpty(), "a self-released hold inserts nothing");

            ConsistencyTag kept = new ConsistencyTag(java.util.UUID.randomUUID(), "kept", TagKind.BOOKMARK,
                    java.time.Instant.now());
            t.onMessage(new org.secondsite.wire.Message.TagPrepare(APP, kept, 60_000));
            await().atMost(BUDGET).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2)).until(() -> agent.isHeld(APP));
            t.onMessage(new org.secondsite.wire.Message.TagRelease(kept.id(), true));
            await().atMost(BUDGET).until(() -> !agent.isHeld(APP));
            write(sinkA, 4096);
            sinkA.flush();
            List<DeltaBatch> batches = agent.pendingBatches(A);
            int tagged = -1;
            for (int i = 0; i < batches.size(); i++) {
                if (!batches.get(i).tags().isEmpty()) {
                    tagged = i;
                }
            }
            assertEquals(List.of(kept.id()), batches.get(tagged).tags().stream().map(ConsistencyTag::id).toList());
            List<Long> before = new java.util.ArrayList<>();
            List<Long> after = new java.util.ArrayList<>();
            for (int i = 0; i < batches.size(); i++) {
                for (ChangeRecord r : batches.get(i).records()) {
                    (i <= tagged ? before : after).add(r.offset());
                }
            }
            assertEquals(List.of(0L), before, "the write released at the bound is before the tag");
            assertEquals(List.of(4096L), after, "the write after the committed hold follows it");
            agent.close();
        }
    }

    private static void write(ChangeSink sink, long offset) {
        try {
            sink.accept(ChangeRecord.write(offset, ByteBuffer.allocate(4096)));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean awaitQuietly(java.util.concurrent.Callable<Boolean> c, Duration d) {
        try {
            await().atMost(d).until(c);
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }

    static int sh(String command) {
        try {
            Process p = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                Hooks.killTree(p);
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
