package org.secondsite.link.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/** {@link ConfigStore} on ConfigurationAdmin; configurations are created with location "?" (any bundle). */
final class CmConfigStore implements ConfigStore {
    private static final Set<String> MANAGED_BY_CM = Set.of(Constants.SERVICE_PID, ConfigurationAdmin.SERVICE_FACTORYPID,
            ConfigurationAdmin.SERVICE_BUNDLELOCATION);

    private final ConfigurationAdmin cm;

    CmConfigStore(ConfigurationAdmin cm) {
        this.cm = cm;
    }

    @Override
    public Map<String, Object> read(String pid) throws IOException {
        Configuration c = find("(" + Constants.SERVICE_PID + "=" + escape(pid) + ")");
        return c == null ? null : map(c.getProperties());
    }

    @Override
    public void write(String pid, Map<String, Object> properties) throws IOException {
        cm.getConfiguration(pid, "?").update(dictionary(properties));
    }

    @Override
    public Map<String, Object> readFactory(String factoryPid, String name) throws IOException {
        return read(factoryPid + "~" + name);
    }

    @Override
    public void writeFactory(String factoryPid, String name, Map<String, Object> properties) throws IOException {
        cm.getFactoryConfiguration(factoryPid, name, "?").update(dictionary(properties));
    }

    @Override
    public List<String> factoryPidsWith(String factoryPid, String key, String value) throws IOException {
        List<String> out = new ArrayList<>();
        for (Configuration c : list("(&(" + ConfigurationAdmin.SERVICE_FACTORYPID + "=" + escape(factoryPid) + ")("
                + escape(key) + "=" + escape(value) + "))")) {
            out.add(c.getPid());
        }
        return out;
    }

    @Override
    public void delete(String pid) throws IOException {
        for (Configuration c : list("(" + Constants.SERVICE_PID + "=" + escape(pid) + ")")) {
            c.delete();
        }
    }

    private Configuration find(String filter) throws IOException {
        List<Configuration> found = list(filter);
        return found.isEmpty() ? null : found.get(0);
    }

    private List<Configuration> list(String filter) throws IOException {
        try {
            Configuration[] cs = cm.listConfigurations(filter);
            return cs == null ? List.of() : List.of(cs);
        } catch (InvalidSyntaxException e) {
            throw new IOException("bad configuration filter " + filter + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> map(Dictionary<String, Object> d) {
        if (d == null) {
            return null;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (String k : Collections.list(d.keys())) {
            if (!MANAGED_BY_CM.contains(k)) {
                out.put(k, d.get(k));
            }
        }
        return out;
    }

    private static Dictionary<String, Object> dictionary(Map<String, Object> properties) {
        Hashtable<String, Object> d = new Hashtable<>();
        properties.forEach((k, v) -> {
            if (v != null && !MANAGED_BY_CM.contains(k)) {
                d.put(k, v);
            }
        });
        return d;
    }

    /** Escapes a value for an LDAP filter (RFC 4515 special characters of OSGi filters). */
    static String escape(String value) {
        StringBuilder b = new StringBuilder(value.length());
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == '*' || c == '(' || c == ')') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }
}
