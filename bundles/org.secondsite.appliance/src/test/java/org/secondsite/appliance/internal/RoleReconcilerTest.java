package org.secondsite.appliance.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.secondsite.api.appliance.Role;

class RoleReconcilerTest {

    /** Records operations against a set of installed features, like Karaf's requirements. */
    static final class FakeFeatures implements FeatureOps {
        final Set<String> installed = new HashSet<>();
        final List<String> log = new ArrayList<>();
        String failOn;

        @Override
        public Set<String> required(Set<String> candidates) {
            Set<String> out = new HashSet<>(installed);
            out.retainAll(candidates);
            return out;
        }

        @Override
        public void install(String feature) throws Exception {
            if (feature.equals(failOn)) {
                throw new Exception("cannot resolve " + feature);
            }
            log.add("install " + feature);
            installed.add(feature);
        }

        @Override
        public void uninstall(Set<String> features) {
            log.add("uninstall " + new java.util.TreeSet<>(features));
            installed.removeAll(features);
        }
    }

    @Test
    void firstBootInstallsTheRoleFeatureOnly() throws Exception {
        FakeFeatures f = new FakeFeatures();
        f.installed.add("scr");
        String done = new RoleReconciler(f).reconcile(Role.ALL_IN_ONE);
        assertEquals("installed secondsite-all-in-one", done);
        assertEquals(Set.of("scr", "secondsite-all-in-one"), f.installed);
    }

    @Test
    void switchingInstallsTheNewRoleBeforeRemovingTheOld() throws Exception {
        FakeFeatures f = new FakeFeatures();
        f.installed.add("secondsite-all-in-one");
        f.installed.add("secondsite-console");
        String done = new RoleReconciler(f).reconcile(Role.AGENT);
        assertEquals(List.of("install secondsite-agent", "uninstall [secondsite-all-in-one, secondsite-console]"), f.log);
        assertEquals(Set.of("secondsite-agent"), f.installed);
        assertEquals("installed secondsite-agent; removed ", done.substring(0, done.indexOf("removed ") + 8));
    }

    @Test
    void additionalRolesAreInstalledBesideTheRoleAndDroppedWhenNoLongerWanted() throws Exception {
        FakeFeatures f = new FakeFeatures();
        f.installed.add("secondsite-all-in-one");
        RoleReconciler r = new RoleReconciler(f);
        String done = r.reconcile(Role.CONFIG_SERVER, Set.of(Role.MASTER_TARGET));
        assertEquals("installed secondsite-config-server, secondsite-master-target; removed secondsite-all-in-one", done);
        assertEquals(Set.of("secondsite-config-server", "secondsite-master-target"), f.installed);
        assertEquals("nothing to change", r.reconcile(Role.CONFIG_SERVER, Set.of(Role.MASTER_TARGET)));
        assertEquals("removed secondsite-master-target", r.reconcile(Role.CONFIG_SERVER));
        assertEquals(Set.of("secondsite-config-server"), f.installed);
    }

    @Test
    void reconcilingTwiceChangesNothing() throws Exception {
        FakeFeatures f = new FakeFeatures();
        RoleReconciler r = new RoleReconciler(f);
        r.reconcile(Role.MASTER_TARGET);
        f.log.clear();
        assertEquals("nothing to change", r.reconcile(Role.MASTER_TARGET));
        assertEquals(List.of(), f.log);
    }

    @Test
    void aFailedInstallLeavesTheOldRoleInPlace() {
        FakeFeatures f = new FakeFeatures();
        f.installed.add("secondsite-process-server");
        f.failOn = "secondsite-master-target";
        assertThrows(Exception.class, () -> new RoleReconciler(f).reconcile(Role.MASTER_TARGET));
        assertEquals(Set.of("secondsite-process-server"), f.installed);
    }
}
