package org.secondsite.link.internal;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The configurations the link reads and writes: ConfigurationAdmin in the appliance, a map in
 * tests. Properties exclude {@code service.pid}, {@code service.factoryPid} and
 * {@code service.bundleLocation} (set by ConfigurationAdmin); every other key, such as Karaf's
 * {@code felix.fileinstall.filename}, is kept when written back.
 */
public interface ConfigStore {

    /** The properties of configuration {@code pid}, or null if it does not exist (or has never been updated). */
    Map<String, Object> read(String pid) throws IOException;

    /** Creates or replaces configuration {@code pid} with exactly {@code properties}. */
    void write(String pid, Map<String, Object> properties) throws IOException;

    /** The properties of factory configuration {@code factoryPid~name}, or null if missing. */
    Map<String, Object> readFactory(String factoryPid, String name) throws IOException;

    /** Creates or replaces factory configuration {@code factoryPid~name} with exactly {@code properties}. */
    void writeFactory(String factoryPid, String name, Map<String, Object> properties) throws IOException;

    /**
     * The PIDs of the configurations of {@code factoryPid} whose property {@code key} equals {@code value}
     * (the configuration server's marker).
     */
    List<String> factoryPidsWith(String factoryPid, String key, String value) throws IOException;

    /** Deletes configuration {@code pid}; nothing if it does not exist. */
    void delete(String pid) throws IOException;
}
