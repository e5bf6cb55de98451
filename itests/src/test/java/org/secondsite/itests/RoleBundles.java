package org.secondsite.itests;

import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.secondsite.api.appliance.Role;

/** Which SecondSite bundles and plugins each role must have active, and no other role may. */
final class RoleBundles {
    /** Present in every role. */
    static final Set<String> CORE = Set.of("org.secondsite.api", "org.secondsite.appliance");

    private static final Map<Role, Set<String>> OWN = new EnumMap<>(Role.class);
    private static final Map<Role, List<String>> PLUGINS = new EnumMap<>(Role.class);

    /** The data path shared by agent, process server and master target. */
    private static final Set<String> DATA_PATH = Set.of("org.secondsite.pki", "org.secondsite.wire", "org.secondsite.compress.none",
            "org.secondsite.compress.lz4", "org.secondsite.compress.zstd", "org.secondsite.transport.tls",
            "lz4-java", "com.github.luben.zstd-jni");
    private static final List<String> DATA_PATH_PLUGINS =
            List.of("compressor:none", "compressor:lz4", "compressor:zstd", "transport:tls");

    static {
        for (Role r : Role.values()) {
            OWN.put(r, Set.of());
            PLUGINS.put(r, List.of());
        }
        OWN.put(Role.AGENT, union(DATA_PATH, "org.secondsite.nbd", "org.secondsite.capture.nbd", "org.secondsite.capture.scan",
                "org.secondsite.agent"));
        PLUGINS.put(Role.AGENT, plus(DATA_PATH_PLUGINS, "capture:nbd", "capture:scan"));
        OWN.put(Role.PROCESS_SERVER, union(DATA_PATH, "org.secondsite.processserver"));
        PLUGINS.put(Role.PROCESS_SERVER, DATA_PATH_PLUGINS);
        OWN.put(Role.MASTER_TARGET, union(DATA_PATH, "org.secondsite.nbd", "org.secondsite.storage.file",
                "org.secondsite.mastertarget"));
        PLUGINS.put(Role.MASTER_TARGET, plus(DATA_PATH_PLUGINS, "storage:file"));
        OWN.put(Role.CONSOLE, Set.of("org.secondsite.console"));
        OWN.put(Role.CONFIG_SERVER, Set.of("org.secondsite.pki", "org.secondsite.configserver"));
        OWN.put(Role.ALL_IN_ONE, Set.of("org.secondsite.demo"));
    }

    private static Set<String> union(Set<String> base, String... more) {
        Set<String> s = new HashSet<>(base);
        s.addAll(List.of(more));
        return Set.copyOf(s);
    }

    private static List<String> plus(List<String> base, String... more) {
        List<String> l = new java.util.ArrayList<>(base);
        l.addAll(List.of(more));
        return List.copyOf(l);
    }

    private RoleBundles() {
    }

    /** Bundles that must be active in {@code role}. */
    static Set<String> expected(Role role) {
        Set<String> s = new HashSet<>(CORE);
        if (role == Role.ALL_IN_ONE) {
            OWN.values().forEach(s::addAll);
        } else {
            s.addAll(OWN.get(role));
        }
        return s;
    }

    /** Plugins ({@code point:name}) that must be registered in {@code role}. */
    static List<String> expectedPlugins(Role role) {
        if (role == Role.ALL_IN_ONE) {
            return PLUGINS.values().stream().flatMap(List::stream).distinct().toList();
        }
        return PLUGINS.get(role);
    }

    /** Every role-specific bundle. */
    static Set<String> all() {
        Set<String> s = new HashSet<>();
        OWN.values().forEach(s::addAll);
        return s;
    }
}
