package org.secondsite.link.internal;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Applies a {@link DesiredState} to the configurations (contract §3): singleton entries merge
 * their keys into the configuration (created if missing, other keys kept); factory entries set
 * their keys plus the marker {@code secondsite.managed=configserver}; for each managed factory
 * PID, marked configurations the document does not list are deleted. A configuration is written
 * only when a value differs, since every write restarts the components that use it. A value read
 * back as text (Karaf's {@code .cfg} files hold strings) equals the same value typed.
 */
public final class DesiredStateApplier {

    /** What an application changed. */
    public record Outcome(int written, int unchanged, int deleted) {
    }

    private final ConfigStore store;

    public DesiredStateApplier(ConfigStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    /**
     * Applies {@code desired}. A failure leaves what was applied before it in place; applying
     * the same document again completes it.
     *
     * @throws DesiredStateException naming the configuration that could not be written
     */
    public Outcome apply(DesiredState desired) throws DesiredStateException {
        int written = 0;
        int unchanged = 0;
        int deleted = 0;
        for (DesiredState.Entry e : desired.configurations()) {
            try {
                Map<String, Object> current = e.isFactory() ? store.readFactory(e.factoryPid(), e.name())
                        : store.read(e.pid());
                Map<String, Object> wanted = new LinkedHashMap<>(current == null ? Map.of() : current);
                wanted.putAll(e.properties());
                if (e.isFactory()) {
                    wanted.put(DesiredState.MARKER_KEY, DesiredState.MARKER_VALUE);
                }
                if (current != null && sameValues(current, wanted)) {
                    unchanged++;
                    continue;
                }
                if (e.isFactory()) {
                    store.writeFactory(e.factoryPid(), e.name(), wanted);
                } else {
                    store.write(e.pid(), wanted);
                }
                written++;
            } catch (IOException | RuntimeException ex) {
                throw new DesiredStateException(e.label() + " could not be written: " + ex.getMessage(), ex);
            }
        }
        Set<String> listed = new HashSet<>();
        for (DesiredState.Entry e : desired.configurations()) {
            if (e.isFactory()) {
                listed.add(e.effectivePid());
            }
        }
        for (String factoryPid : desired.managedFactoryPids()) {
            List<String> marked;
            try {
                marked = store.factoryPidsWith(factoryPid, DesiredState.MARKER_KEY, DesiredState.MARKER_VALUE);
            } catch (IOException | RuntimeException ex) {
                throw new DesiredStateException("configurations of " + factoryPid + " could not be listed: "
                        + ex.getMessage(), ex);
            }
            for (String pid : marked) {
                if (!listed.contains(pid)) {
                    try {
                        store.delete(pid);
                        deleted++;
                    } catch (IOException | RuntimeException ex) {
                        throw new DesiredStateException("configuration " + pid + " could not be deleted: "
                                + ex.getMessage(), ex);
                    }
                }
            }
        }
        return new Outcome(written, unchanged, deleted);
    }

    /** Whether every key of {@code wanted} has the same value in {@code current} (and no key was added). */
    static boolean sameValues(Map<String, Object> current, Map<String, Object> wanted) {
        if (!current.keySet().equals(wanted.keySet())) {
            return false;
        }
        for (var e : wanted.entrySet()) {
            if (!same(current.get(e.getKey()), e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** Whether a configured value equals a wanted one, a textual value being equal to its typed form. */
    static boolean same(Object current, Object wanted) {
        if (Objects.equals(current, wanted)) {
            return true;
        }
        if (current == null || wanted == null) {
            return false;
        }
        if (wanted instanceof String[] w) {
            if (current instanceof String[] c) {
                return Arrays.equals(c, w);
            }
            if (current instanceof java.util.Collection<?> c) {
                return Arrays.asList(w).equals(List.copyOf(c));
            }
            return false;
        }
        if (current instanceof String s) {
            return s.equals(String.valueOf(wanted));
        }
        if (wanted instanceof Long l && (current instanceof Integer || current instanceof Short
                || current instanceof Byte)) {
            return ((Number) current).longValue() == l;
        }
        if (wanted instanceof Double d && current instanceof Float f) {
            return f.doubleValue() == d;
        }
        return false;
    }
}
