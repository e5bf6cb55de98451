package org.secondsite.appliance.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ComponentHealthTest {
    @Test
    void theInnermostCauseIsTheReason() {
        String trace = "java.lang.reflect.InvocationTargetException\n\tat x.y(Z.java:1)\n"
                + "Caused by: java.lang.IllegalStateException: wrapped\n\tat a.b(C.java:2)\n"
                + "Caused by: java.lang.IllegalArgumentException: window (1024 bytes) must hold at least one frame\n"
                + "\tat d.e(F.java:3)\n";
        assertEquals("java.lang.IllegalArgumentException: window (1024 bytes) must hold at least one frame",
                ComponentHealth.rootCause(trace));
        assertEquals("java.lang.IllegalStateException: boom", ComponentHealth.rootCause("java.lang.IllegalStateException: boom"));
    }
}
