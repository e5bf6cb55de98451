package org.secondsite.link.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class ConfigServerClientTest {

    private static ConfigServerClient.Reply reply(String json) throws CallFailed {
        return ConfigServerClient.reply(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void answersWithAndWithoutADocument() throws Exception {
        ConfigServerClient.Reply none = reply("{\"componentId\":\"ps-01\",\"stored\":true,\"desiredRevision\":7}");
        assertEquals(7, none.desiredRevision());
        assertTrue(!none.hasDocument());

        ConfigServerClient.Reply with = reply("{\"componentId\":\"ps-01\",\"desired\":"
                + DesiredStateDecoderTest.CONTRACT_EXAMPLE + ",\"stored\":true,\"future\":{\"x\":[1]},\"desiredRevision\":7}");
        assertEquals(7, with.desired().revision());
        assertEquals(2, with.desired().configurations().size());

        ConfigServerClient.Reply unicode = reply("{\"desired\":{\"revision\":2,\"configurations\":[{\"pid\":"
                + "\"org.secondsite.a\",\"properties\":{\"label\":\"Zürich 東京 \\u00e9\"}}]},\"desiredRevision\":2}");
        assertEquals("Zürich 東京 é", unicode.desired().configurations().get(0).properties().get("label"),
                "the document is sliced by characters, not bytes");
    }

    @Test
    void aRefusedDocumentKeepsTheRestOfTheAnswer() throws Exception {
        ConfigServerClient.Reply r = reply("{\"desiredRevision\":3,\"desired\":{\"revision\":3,\"configurations\":"
                + "[{\"pid\":\"org.apache.karaf.jaas\",\"properties\":{}}]}}");
        assertEquals(3, r.desiredRevision());
        assertNull(r.desired());
        assertTrue(r.desiredError().contains("org.apache.karaf.jaas"), r.desiredError());
    }

    @Test
    void unreadableAnswersFail() {
        assertThrows(CallFailed.class, () -> reply("not json"));
        assertThrows(CallFailed.class, () -> reply("[1]"));
        assertThrows(CallFailed.class, () -> ConfigServerClient.reply(new byte[] {'{', (byte) 0xff, '}'}));
        assertThrows(CallFailed.class, () -> reply("{\"desired\":{\"revision\":1,"));
    }

    @Test
    void retryAfterIsBoundedAndOnlySeconds() {
        assertEquals(Duration.ofSeconds(30), ConfigServerClient.retryAfter(Optional.of("30")));
        assertEquals(Duration.ofSeconds(1), ConfigServerClient.retryAfter(Optional.of("0")));
        assertEquals(ConfigServerClient.MAX_RETRY_AFTER, ConfigServerClient.retryAfter(Optional.of("999999")));
        assertNull(ConfigServerClient.retryAfter(Optional.of("Wed, 21 Oct 2015 07:28:00 GMT")));
        assertNull(ConfigServerClient.retryAfter(Optional.empty()));
    }

    @Test
    void problemDetailsAreShownShortly() {
        assertEquals(": Bad Request - csr subject is wrong (field csr)", ConfigServerClient.problem(
                "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"csr subject is wrong\",\"field\":\"csr\"}"
                        .getBytes(StandardCharsets.UTF_8)));
        assertEquals(": Service Unavailable", ConfigServerClient.problem("<h1>Service\n Unavailable</h1>"
                .replace("<h1>", "").replace("</h1>", "").getBytes(StandardCharsets.UTF_8)));
        assertEquals("", ConfigServerClient.problem(new byte[0]));
    }

    @Test
    void answersAreReadUpToABound() throws IOException {
        assertEquals(10, ConfigServerClient.readLimited(new ByteArrayInputStream(new byte[10]), 10).length);
        IOException e = assertThrows(IOException.class,
                () -> ConfigServerClient.readLimited(new ByteArrayInputStream(new byte[11]), 10));
        assertTrue(e.getMessage().contains("longer than 10 bytes"));
    }
}
