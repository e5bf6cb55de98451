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

    @Test
    void aDiskWhoseSourceFailsIsAProblem() {
        var ok = new org.secondsite.api.replication.DiskReplicationStatus(org.secondsite.api.model.DiskId.of("d0"),
                org.secondsite.api.replication.ReplicationMonitor.Stage.AGENT, "replicating", "", 1, 1, 0, null, null, 0, 0);
        var failed = new org.secondsite.api.replication.DiskReplicationStatus(org.secondsite.api.model.DiskId.of("d1"),
                org.secondsite.api.replication.ReplicationMonitor.Stage.AGENT, "source-failed",
                "source /srv/d1.img turned read-only", 1, 1, 0, null, null, 0, 0);
        var problems = ComponentHealth.diskProblems(java.util.List.of(ok, failed));
        assertEquals(1, problems.size());
        assertEquals(new ComponentHealth.Problem("disk d1", "agent", "source-failed", "source /srv/d1.img turned read-only"),
                problems.get(0));
    }
}
