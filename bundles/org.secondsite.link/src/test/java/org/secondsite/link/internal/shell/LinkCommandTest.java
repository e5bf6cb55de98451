package org.secondsite.link.internal.shell;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.secondsite.link.internal.LinkStatus;

class LinkCommandTest {

    private static String print(LinkStatus s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LinkCommand.print(s, new PrintStream(out, true, StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void showsEveryFieldOfARegisteredLink() {
        Instant t = Instant.parse("2030-01-01T12:00:00Z");
        String text = print(new LinkStatus("registered", URI.create("https://cs:8443"), "ps-01", "process-server", t,
                "abc123", t.plusSeconds(86400), t.plusSeconds(60), "accepted", 6, 7, "revision 7 not applied: x",
                "heartbeat refused", t.plusSeconds(30)));
        for (String expected : new String[] {"registered", "https://cs:8443", "ps-01 (process-server)",
                "2030-01-01T12:00:00Z", "serial abc123, expires 2030-01-02T12:00:00Z",
                "2030-01-01T12:01:00Z: accepted", "6 (server has 7)", "revision 7 not applied: x",
                "2030-01-01T12:00:30Z: heartbeat refused"}) {
            assertTrue(text.contains(expected), expected + " in\n" + text);
        }
    }

    @Test
    void saysWhatToConfigureWhenIdle() {
        assertTrue(print(null).contains("etc/org.secondsite.link.cfg"));
        String idle = print(LinkStatus.notConfigured("role '' is invalid"));
        assertTrue(idle.contains("not configured") && idle.contains("role '' is invalid"), idle);
        assertTrue(idle.contains("never"), idle);
    }
}
