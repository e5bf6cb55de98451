package org.secondsite.link.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** ConfigurationAdmin as the tests see it: PIDs to properties, writes counted, a PID that fails on demand. */
final class MapConfigStore implements ConfigStore {
    final Map<String, Map<String, Object>> configs = new ConcurrentHashMap<>();
    /** Factory PID of each factory configuration's PID. */
    final Map<String, String> factoryOf = new ConcurrentHashMap<>();
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger deletes = new AtomicInteger();
    volatile String failingPid;

    @Override
    public Map<String, Object> read(String pid) {
        Map<String, Object> c = configs.get(pid);
        return c == null ? null : new LinkedHashMap<>(c);
    }

    @Override
    public void write(String pid, Map<String, Object> properties) throws IOException {
        if (pid.equals(failingPid)) {
            throw new IOException("disk full");
        }
        writes.incrementAndGet();
        configs.put(pid, new LinkedHashMap<>(properties));
    }

    @Override
    public Map<String, Object> readFactory(String factoryPid, String name) {
        return read(factoryPid + "~" + name);
    }

    @Override
    public void writeFactory(String factoryPid, String name, Map<String, Object> properties) throws IOException {
        write(factoryPid + "~" + name, properties);
        factoryOf.put(factoryPid + "~" + name, factoryPid);
    }

    @Override
    public List<String> factoryPidsWith(String factoryPid, String key, String value) {
        List<String> out = new ArrayList<>();
        configs.forEach((pid, props) -> {
            if (factoryPid.equals(factoryOf.get(pid)) && value.equals(props.get(key))) {
                out.add(pid);
            }
        });
        return out;
    }

    @Override
    public void delete(String pid) {
        if (configs.remove(pid) != null) {
            deletes.incrementAndGet();
        }
        factoryOf.remove(pid);
    }

    /** Puts a factory configuration directly (as an operator would have created it). */
    void putFactory(String factoryPid, String name, Map<String, Object> properties) {
        configs.put(factoryPid + "~" + name, new LinkedHashMap<>(properties));
        factoryOf.put(factoryPid + "~" + name, factoryPid);
    }
}
