package org.secondsite.appliance.internal.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.Test;

class FirstBootAdminTest {
    private static final Map<String, String> KARAF = Map.of("encryption.algorithm", "SHA-512",
            "encryption.encoding", "hexadecimal", "encryption.prefix", "{CRYPT}", "encryption.suffix", "{CRYPT}");

    @Test
    void hashesAsKarafsBasicEncryptionStoresIt() {
        // SHA-512("password"), upper-case hex, as etc/users.properties holds it.
        assertEquals("{CRYPT}B109F3BBBC244EB82441917ED06D618B9008DD09B3BEFD1B5E07394C706A8BB980B1D7785E5976EC049B46DF5F1326AF"
                + "5A2EA6D103FD07C95385FFAB0CACBC86{CRYPT}", FirstBootAdmin.hash("password", KARAF));
    }

    @Test
    void unsupportedSettingsAreRefusedClearly() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FirstBootAdmin.hash("x",
                Map.of("encryption.algorithm", "SHA-512", "encryption.encoding", "rot13")));
        assertEquals("unsupported encryption.encoding 'rot13': use hexadecimal or base64 in etc/org.apache.karaf.jaas.cfg",
                e.getMessage());
        assertThrows(IllegalStateException.class, () -> FirstBootAdmin.hash("x",
                Map.of("encryption.algorithm", "NOPE-1", "encryption.encoding", "hexadecimal")));
    }
}
