package org.secondsite.link.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class LinkSettingsTest {

    @Test
    void goodSettings() {
        LinkSettings s = LinkSettings.of(" https://cs.example.org:8443/ ", "ps-01", "process-server", "primary",
                "10.0.0.5:9443", "secret", "", 10, "/var/link");
        assertEquals("https://cs.example.org:8443", s.configServer().toString());
        assertEquals("https://cs.example.org:8443/api/v1/heartbeats", s.endpoint("/api/v1/heartbeats").toString());
        assertEquals(Duration.ofSeconds(10), s.heartbeat());
        assertNull(s.trustedCertificate());
        assertFalse(s.toString().contains("secret"), "toString never shows the passphrase");
        assertNull(s.withoutPassphrase().passphrase());
        LinkSettings agent = LinkSettings.of("http://cs", "agent-1", "agent", "", "", "", "", 1, "/x");
        assertNull(agent.site());
        assertNull(agent.address());
        assertNull(agent.passphrase());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no server | '' | agent-1 | agent | '' | '' | 10 | configServer is empty",
        "ftp | ftp://cs | agent-1 | agent | '' | '' | 10 | must start with http:// or https://",
        "query | http://cs/?a=1 | agent-1 | agent | '' | '' | 10 | no user, query or fragment",
        "user | http://u:p@cs | agent-1 | agent | '' | '' | 10 | no user, query or fragment",
        "bad id | http://cs | 'a b' | agent | '' | '' | 10 | componentId 'a b' is invalid",
        "no role | http://cs | agent-1 | '' | '' | '' | 10 | role '' is invalid",
        "bad role | http://cs | agent-1 | config-server | '' | '' | 10 | expected agent, process-server or master-target",
        "bad address | http://cs | ps-1 | process-server | 10.0.0.5 | '' | 10 | expected host:port",
        "port | http://cs | ps-1 | process-server | h:70000 | '' | 10 | port 1-65535",
        "zero heartbeat | http://cs | agent-1 | agent | '' | '' | 0 | heartbeatSeconds 0 is out of range: expected 1..3600",
        "slow heartbeat | http://cs | agent-1 | agent | '' | '' | 3601 | out of range",
        "pem over http | http://cs | agent-1 | agent | '' | /etc/cs.pem | 10 | trustedCertificate is set but configServer",
    })
    void badSettingsAreRefusedSayingWhich(String what, String server, String id, String role, String address,
                                          String pem, int heartbeat, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinkSettings.of(server, id, role, null, address, null, pem, heartbeat, "/x"));
        assertTrue(e.getMessage().contains(expected), what + ": " + e.getMessage());
    }
}
