package org.secondsite.itests;

import static org.awaitility.Awaitility.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Set;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.secondsite.api.appliance.PluginInfo;
import org.secondsite.api.appliance.Role;
import org.secondsite.api.appliance.RoleState.Phase;

/** What every role must show once booted: its feature alone, its bundles active, status and health. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public abstract class RoleTestBase extends SecondSiteTestSupport {

    @Before
    public void roleApplied() {
        awaitRoleApplied("role " + bootRole());
    }

    @Test
    public void onlyThisRolesFeatureIsInstalled() throws Exception {
        assertEquals(bootRole(), appliance().roleState().role());
        assertEquals(Set.of(bootRole().feature()), requiredRoleFeatures());
    }

    @Test
    public void roleBundlesAreActiveAndOtherRolesBundlesAreNot() {
        Set<String> active = activeBundles();
        Set<String> expected = RoleBundles.expected(bootRole());
        assertTrue("missing active bundles: " + missing(expected, active), active.containsAll(expected));
        Set<String> foreign = new HashSet<>(RoleBundles.all());
        foreign.removeAll(expected);
        foreign.retainAll(active);
        assertTrue("bundles of other roles are active: " + foreign, foreign.isEmpty());
    }

    @Test
    public void statusReportsRoleVersionAndEveryRegisteredPlugin() throws Exception {
        String out = executeCommand("dr:status");
        assertTrue(out, out.contains("Role:    " + bootRole().id() + " (applied"));
        assertTrue(out, out.contains("Version: " + System.getProperty("appliance.version", appliance().version())));
        assertTrue(out, out.contains("Uptime:"));
        for (PluginInfo p : appliance().plugins()) {
            assertTrue("dr:status does not list " + p + ":\n" + out,
                    out.lines().anyMatch(l -> l.contains(p.point().id()) && l.contains(p.name())
                            && l.contains(p.bundle()) && l.contains(p.state())));
        }
        for (String plugin : RoleBundles.expectedPlugins(bootRole())) {
            String point = plugin.substring(0, plugin.indexOf(':'));
            String name = plugin.substring(plugin.indexOf(':') + 1);
            assertTrue("dr:status does not list plugin " + plugin + ":\n" + out, out.lines()
                    .anyMatch(l -> l.startsWith(point) && l.contains("| " + name + " ") && l.contains("ACTIVE")));
        }
    }

    @Test
    public void healthNeedsCredentials() throws Exception {
        // The application is served once its authentication filter and JSON provider are there (404 before).
        try {
            await("REST application served").atMost(ROLE_BUDGET)
                    .until(() -> get("/api/v1/health", null, null).statusCode() != 404);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("/api/v1/health still 404 after " + ROLE_BUDGET + "; JAX-RS failures: "
                    + jaxrsFailures() + "; recent log errors: " + recentLogErrors(), e);
        }
        HttpResponse<String> anonymous = get("/api/v1/health", null, null);
        assertEquals(401, anonymous.statusCode());
        assertTrue(anonymous.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));
        assertEquals(401, get("/api/v1/health", "karaf", "karaf").statusCode());
        assertEquals(401, get("/api/v1/health", "admin", "wrong-" + adminPassword()).statusCode());

        HttpResponse<String> ok = get("/api/v1/health", "admin", adminPassword());
        assertEquals(ok.body(), 200, ok.statusCode());
        assertTrue(ok.body(), ok.body().contains("\"role\":\"" + bootRole().id() + "\""));
        assertTrue(ok.body(), ok.body().contains("\"version\":\"" + appliance().version() + "\""));
        for (String plugin : RoleBundles.expectedPlugins(bootRole())) {
            assertTrue("health does not list " + plugin + ": " + ok.body(),
                    ok.body().contains("\"name\":\"" + plugin.substring(plugin.indexOf(':') + 1) + "\""));
        }
    }

    private static Set<String> missing(Set<String> expected, Set<String> actual) {
        Set<String> m = new HashSet<>(expected);
        m.removeAll(actual);
        return m;
    }

}
