package org.secondsite.appliance.internal.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class StatusCommandTest {
    @Test
    void uptimeIsReadable() {
        assertEquals("00h 00m 05s", StatusCommand.formatUptime(Duration.ofSeconds(5)));
        assertEquals("01h 02m 03s", StatusCommand.formatUptime(Duration.ofSeconds(3723)));
        assertEquals("2d 00h 00m 01s", StatusCommand.formatUptime(Duration.ofDays(2).plusSeconds(1)));
        assertEquals("00h 00m 00s", StatusCommand.formatUptime(Duration.ofSeconds(-3)));
    }
}
