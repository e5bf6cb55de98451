package org.secondsite.link.internal;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A desired-state document from the configuration server (contract §3), already checked by
 * {@link DesiredStateDecoder}.
 *
 * @param revision the document's revision, 1 or more
 * @param configurations the configurations to merge, in document order
 * @param managedFactoryPids factory PIDs whose marked configurations not listed are deleted
 */
public record DesiredState(long revision, List<Entry> configurations, List<String> managedFactoryPids) {
    /** Property marking a factory configuration the configuration server created. */
    public static final String MARKER_KEY = "secondsite.managed";
    /** Value of {@link #MARKER_KEY}. */
    public static final String MARKER_VALUE = "configserver";

    public DesiredState {
        configurations = List.copyOf(configurations);
        managedFactoryPids = List.copyOf(managedFactoryPids);
    }

    /**
     * One configuration: either a singleton ({@code pid}) or a named factory configuration
     * ({@code factoryPid} + {@code name}).
     *
     * @param pid the singleton PID, or null
     * @param factoryPid the factory PID, or null
     * @param name the factory configuration's name, or null
     * @param properties the properties to set: String, Long, Double, Boolean or String[] values
     */
    public record Entry(String pid, String factoryPid, String name, Map<String, Object> properties) {
        public Entry {
            if ((pid == null) == (factoryPid == null) || (factoryPid == null) != (name == null)) {
                throw new IllegalArgumentException("an entry has either a pid or a factoryPid with a name");
            }
            properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
        }

        /** Whether this is a factory configuration. */
        public boolean isFactory() {
            return factoryPid != null;
        }

        /** The configuration's PID: {@code pid}, or {@code factoryPid~name} (ConfigurationAdmin 1.6). */
        public String effectivePid() {
            return pid != null ? pid : factoryPid + "~" + name;
        }

        /** Where this entry is, for messages. */
        public String label() {
            return pid != null ? "configuration " + pid : "factory configuration " + factoryPid + " '" + name + "'";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && Objects.equals(pid, e.pid) && Objects.equals(factoryPid, e.factoryPid)
                    && Objects.equals(name, e.name) && sameProperties(properties, e.properties);
        }

        @Override
        public int hashCode() {
            return Objects.hash(pid, factoryPid, name, properties.keySet());
        }

        private static boolean sameProperties(Map<String, Object> a, Map<String, Object> b) {
            if (!a.keySet().equals(b.keySet())) {
                return false;
            }
            for (var e : a.entrySet()) {
                Object x = e.getValue();
                Object y = b.get(e.getKey());
                if (x instanceof String[] xs && y instanceof String[] ys ? !Arrays.equals(xs, ys) : !Objects.equals(x, y)) {
                    return false;
                }
            }
            return true;
        }
    }
}
