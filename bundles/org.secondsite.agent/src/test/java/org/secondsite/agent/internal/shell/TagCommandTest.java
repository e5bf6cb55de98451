package org.secondsite.agent.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.secondsite.agent.internal.Agent;
import org.secondsite.agent.internal.AgentOptions;
import org.secondsite.agent.internal.AgentService;
import org.secondsite.agent.internal.ResyncOptions;
import org.secondsite.agent.internal.TagOptions;
import org.secondsite.agent.internal.Tagger;
import org.secondsite.api.model.DiskId;
import org.secondsite.api.model.GroupId;
import org.secondsite.api.model.TagKind;

/** dr:tag against a real agent and tagger (no process server): group or disk, --app, refusals. */
class TagCommandTest {
    @TempDir
    Path dir;

    private Agent agent;
    private Tagger tagger;
    private AgentService service;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        agent = new Agent(AgentOptions.defaults(new InetSocketAddress("127.0.0.1", 9), dir)
                .withCheckpointInterval(Duration.ZERO), ResyncOptions.defaults().withoutInitialReplication(),
                () -> "agent-1", name -> null, () -> null, name -> null,
                Clock.systemUTC());
        agent.protect(DiskId.of("db01:disk0"), GroupId.of("erp"), 1 << 20);
        agent.protect(DiskId.of("db01:disk1"), GroupId.of("erp"), 1 << 20);
        tagger = new Tagger(agent, TagOptions.defaults().withHooks(List.of("echo flushed"), List.of()),
                Clock.systemUTC());
        // the three methods dr:tag uses, on the real agent; any other call fails the test
        service = (AgentService) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {AgentService.class},
                (proxy, m, args) -> switch (m.getName()) {
                    case "tag" -> tagger.tag((GroupId) args[0], (String) args[1], (TagKind) args[2]);
                    case "groups" -> agent.groups();
                    case "groupOf" -> agent.groupOf((DiskId) args[0]);
                    default -> throw new AssertionError("dr:tag does not call " + m.getName());
                });
    }

    @AfterEach
    void stop() {
        tagger.close();
        agent.close();
    }

    private boolean run(String target, String name, boolean app) {
        TagCommand c = new TagCommand();
        c.target = target;
        c.name = name;
        c.application = app;
        c.agent = service;
        return c.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void tagsAGroupOrTheGroupOfADisk() {
        assertTrue(run("erp", "nightly", true), err.toString(StandardCharsets.UTF_8));
        String o = out.toString(StandardCharsets.UTF_8);
        assertTrue(o.startsWith("Tagged erp 'nightly' (APPLICATION"), o);
        assertTrue(o.contains("on 2 disk(s) [db01:disk0, db01:disk1]"), o);
        assertTrue(o.contains("pre-freeze 'echo flushed' -> exit 0"), o);
        assertTrue(run("db01:disk1", "bookmark-1", false), err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("Tagged erp 'bookmark-1' (BOOKMARK"));
        assertEquals(2, out.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("Tagged")).count());
    }

    @Test
    void refusalsArePrintedAsErrors() {
        assertTrue(run("erp", "x", false));
        assertFalse(run("erp", "x", false));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("Error: Tag 'x' of erp refused: tag name 'x' clashes"),
                err.toString(StandardCharsets.UTF_8));
        assertFalse(run("web", "y", false));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("'web' is neither a protected disk nor a consistency "
                + "group of this agent; groups: [erp]"), err.toString(StandardCharsets.UTF_8));
        assertFalse(run("bad group!", "y", false));
        assertEquals(Optional.of(GroupId.of("erp")), agent.groupOf(DiskId.of("db01:disk0")));
    }
}
