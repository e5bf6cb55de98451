package org.secondsite.link.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

/**
 * Reads a desired-state document (contract §3) strictly: unknown members, wrong types, values out
 * of range, too many entries, duplicate configurations and PIDs outside {@code org.secondsite.*}
 * are refused with a message naming the JSON path and what was expected. The configuration server
 * must not be able to reconfigure arbitrary PIDs (JAAS, the shell, the HTTP service), nor this
 * link or the component identity it trusts ({@link #PROTECTED_PIDS}).
 */
public final class DesiredStateDecoder {
    /** Largest document accepted, in bytes (checked before parsing). */
    public static final int MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;
    public static final int MAX_CONFIGURATIONS = 1024;
    public static final int MAX_PROPERTIES = 256;
    public static final int MAX_MANAGED_FACTORY_PIDS = 64;
    public static final int MAX_ARRAY_ENTRIES = 1024;
    public static final int MAX_STRING_CHARS = 16 * 1024;
    public static final int MAX_PID_CHARS = 200;
    /** Numbers longer than this (in characters) are refused before they are converted. */
    private static final int MAX_NUMBER_CHARS = 64;
    /** PIDs the configuration server may not set: the link itself and the identity it trusts. */
    public static final Set<String> PROTECTED_PIDS = Set.of("org.secondsite.link", "org.secondsite.identity");

    static final Pattern PID = Pattern.compile("org\\.secondsite(\\.[A-Za-z0-9_-]+)+");
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
    static final Pattern KEY = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    private static final Set<String> TOP = Set.of("revision", "configurations", "managedFactoryPids");
    private static final Set<String> ENTRY = Set.of("pid", "factoryPid", "name", "properties");

    private DesiredStateDecoder() {
    }

    /** Decodes a whole document in UTF-8 (nothing may follow it). */
    public static DesiredState decode(byte[] json) throws DesiredStateException {
        if (json.length > MAX_DOCUMENT_BYTES) {
            throw new DesiredStateException("the desired-state document has " + json.length + " bytes; at most "
                    + MAX_DOCUMENT_BYTES);
        }
        try {
            return decode(Json.FACTORY.createParser(json));
        } catch (IOException e) {
            throw new DesiredStateException("desired: cannot be read: " + e.getMessage());
        }
    }

    /** Decodes a whole document (nothing may follow it). */
    public static DesiredState decode(String json) throws DesiredStateException {
        if (json.length() > MAX_DOCUMENT_BYTES) {
            throw new DesiredStateException("the desired-state document has " + json.length() + " characters; at most "
                    + MAX_DOCUMENT_BYTES);
        }
        try {
            return decode(Json.FACTORY.createParser(json));
        } catch (IOException e) {
            throw new DesiredStateException("desired: cannot be read: " + e.getMessage());
        }
    }

    private static DesiredState decode(JsonParser parser) throws DesiredStateException {
        try (JsonParser p = parser) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new DesiredStateException("desired: expected a JSON object");
            }
            DesiredState d = decodeObject(p);
            if (p.nextToken() != null) {
                throw new DesiredStateException("desired: unexpected content after the document");
            }
            return d;
        } catch (JsonProcessingException e) {
            throw new DesiredStateException("desired: not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new DesiredStateException("desired: cannot be read: " + e.getMessage());
        }
    }

    /**
     * Decodes the document whose {@code START_OBJECT} the parser is on, leaving it on the
     * matching {@code END_OBJECT}. Jackson's syntax errors are left to the caller.
     */
    static DesiredState decodeObject(JsonParser p) throws IOException, DesiredStateException {
        Long revision = null;
        List<DesiredState.Entry> configurations = null;
        List<String> managed = List.of();
        Set<String> seen = new HashSet<>();
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String member = memberName(p, "desired", TOP, seen);
            p.nextToken();
            switch (member) {
                case "revision" -> revision = revision(p);
                case "configurations" -> configurations = configurations(p);
                default -> managed = managedFactoryPids(p);
            }
        }
        expect(t, JsonToken.END_OBJECT, "desired");
        if (revision == null) {
            throw new DesiredStateException("desired.revision is missing: expected an integer of 1 or more");
        }
        if (configurations == null) {
            throw new DesiredStateException("desired.configurations is missing: expected an array (it may be empty)");
        }
        return new DesiredState(revision, configurations, managed);
    }

    private static long revision(JsonParser p) throws IOException, DesiredStateException {
        if (p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getTextLength() > MAX_NUMBER_CHARS
                || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER || p.getLongValue() < 1) {
            throw new DesiredStateException("desired.revision must be an integer from 1 to " + Long.MAX_VALUE
                    + ", was " + describe(p));
        }
        return p.getLongValue();
    }

    private static List<DesiredState.Entry> configurations(JsonParser p) throws IOException, DesiredStateException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new DesiredStateException("desired.configurations must be an array, was " + describe(p));
        }
        List<DesiredState.Entry> out = new ArrayList<>();
        Set<String> pids = new HashSet<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            String at = "desired.configurations[" + out.size() + "]";
            if (out.size() == MAX_CONFIGURATIONS) {
                throw new DesiredStateException("desired.configurations has more than " + MAX_CONFIGURATIONS
                        + " entries");
            }
            if (t != JsonToken.START_OBJECT) {
                throw new DesiredStateException(at + " must be an object, was " + describe(p));
            }
            DesiredState.Entry e = entry(p, at);
            if (!pids.add(e.effectivePid())) {
                throw new DesiredStateException(at + ": " + e.label() + " is listed twice");
            }
            out.add(e);
        }
        return out;
    }

    private static DesiredState.Entry entry(JsonParser p, String at) throws IOException, DesiredStateException {
        String pid = null;
        String factoryPid = null;
        String name = null;
        Map<String, Object> properties = null;
        Set<String> seen = new HashSet<>();
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String member = memberName(p, at, ENTRY, seen);
            p.nextToken();
            switch (member) {
                case "pid" -> pid = pid(p, at + ".pid");
                case "factoryPid" -> factoryPid = pid(p, at + ".factoryPid");
                case "name" -> {
                    name = string(p, at + ".name", 128);
                    if (!NAME.matcher(name).matches()) {
                        throw new DesiredStateException(at + ".name '" + name + "' is invalid: use 1-128 letters, "
                                + "digits, '.', '_', ':' or '-', starting with a letter or digit");
                    }
                }
                default -> properties = properties(p, at + ".properties");
            }
        }
        expect(t, JsonToken.END_OBJECT, at);
        if (pid != null && (factoryPid != null || name != null)) {
            throw new DesiredStateException(at + " has a pid and a factoryPid or name: expected either pid, or "
                    + "factoryPid with name");
        }
        if (pid == null && factoryPid == null) {
            throw new DesiredStateException(at + " has neither pid nor factoryPid");
        }
        if (factoryPid != null && name == null) {
            throw new DesiredStateException(at + ".name is missing: a factoryPid entry needs a name");
        }
        if (properties == null) {
            throw new DesiredStateException(at + ".properties is missing: expected an object (it may be empty)");
        }
        return new DesiredState.Entry(pid, factoryPid, name, properties);
    }

    private static Map<String, Object> properties(JsonParser p, String at) throws IOException, DesiredStateException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new DesiredStateException(at + " must be an object, was " + describe(p));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            if (out.size() == MAX_PROPERTIES) {
                throw new DesiredStateException(at + " has more than " + MAX_PROPERTIES + " properties");
            }
            String key = fieldName(p, at);
            if (!KEY.matcher(key).matches()) {
                throw new DesiredStateException(at + ": key '" + key + "' is invalid: use 1-128 letters, digits, "
                        + "'.', '_' or '-'");
            }
            if (key.startsWith("service.") || key.startsWith("felix.") || key.startsWith("component.")
                    || key.equals(DesiredState.MARKER_KEY)) {
                throw new DesiredStateException(at + ": key '" + key + "' is reserved (service.*, felix.*, "
                        + "component.* and " + DesiredState.MARKER_KEY + " are set by the framework or the link)");
            }
            if (out.containsKey(key)) {
                throw new DesiredStateException(at + ": key '" + key + "' appears twice");
            }
            p.nextToken();
            out.put(key, value(p, at + "." + key));
        }
        expect(t, JsonToken.END_OBJECT, at);
        return out;
    }

    /** String → String, integral → Long, other number → Double, boolean → Boolean, array of strings → String[]. */
    private static Object value(JsonParser p, String at) throws IOException, DesiredStateException {
        switch (p.currentToken()) {
            case VALUE_STRING:
                return string(p, at, MAX_STRING_CHARS);
            case VALUE_NUMBER_INT:
                if (p.getTextLength() > MAX_NUMBER_CHARS || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    throw new DesiredStateException(at + ": integer out of range: expected " + Long.MIN_VALUE
                            + ".." + Long.MAX_VALUE);
                }
                return p.getLongValue();
            case VALUE_NUMBER_FLOAT: {
                double d = p.getTextLength() > MAX_NUMBER_CHARS ? Double.NaN : p.getDoubleValue();
                if (!Double.isFinite(d)) {
                    throw new DesiredStateException(at + ": number out of range: expected a finite double");
                }
                return d;
            }
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case START_ARRAY: {
                List<String> items = new ArrayList<>();
                JsonToken t;
                while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                    if (items.size() == MAX_ARRAY_ENTRIES) {
                        throw new DesiredStateException(at + " has more than " + MAX_ARRAY_ENTRIES + " entries");
                    }
                    if (t != JsonToken.VALUE_STRING) {
                        throw new DesiredStateException(at + "[" + items.size() + "] must be a string (arrays hold "
                                + "strings only), was " + describe(p));
                    }
                    items.add(string(p, at + "[" + items.size() + "]", MAX_STRING_CHARS));
                }
                return items.toArray(String[]::new);
            }
            default:
                throw new DesiredStateException(at + " must be a string, number, boolean or array of strings, was "
                        + describe(p));
        }
    }

    private static List<String> managedFactoryPids(JsonParser p) throws IOException, DesiredStateException {
        String at = "desired.managedFactoryPids";
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new DesiredStateException(at + " must be an array of factory PIDs, was " + describe(p));
        }
        List<String> out = new ArrayList<>();
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (out.size() == MAX_MANAGED_FACTORY_PIDS) {
                throw new DesiredStateException(at + " has more than " + MAX_MANAGED_FACTORY_PIDS + " entries");
            }
            String pid = pid(p, at + "[" + out.size() + "]");
            if (out.contains(pid)) {
                throw new DesiredStateException(at + ": '" + pid + "' is listed twice");
            }
            out.add(pid);
        }
        return out;
    }

    private static String pid(JsonParser p, String at) throws IOException, DesiredStateException {
        String pid = string(p, at, MAX_PID_CHARS);
        if (!PID.matcher(pid).matches()) {
            throw new DesiredStateException(at + " '" + pid + "' is refused: only PIDs under org.secondsite. "
                    + "(letters, digits, '_' or '-' between dots) may be configured by the configuration server");
        }
        for (String protectedPid : PROTECTED_PIDS) {
            if (pid.equals(protectedPid) || pid.startsWith(protectedPid + ".")) {
                throw new DesiredStateException(at + " '" + pid + "' is refused: the configuration server may not "
                        + "change the link's own configuration or the component identity");
            }
        }
        return pid;
    }

    private static String string(JsonParser p, String at, int maxChars) throws IOException, DesiredStateException {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw new DesiredStateException(at + " must be a string, was " + describe(p));
        }
        if (p.getTextLength() > maxChars) {
            throw new DesiredStateException(at + " is longer than " + maxChars + " characters");
        }
        return p.getText();
    }

    private static String memberName(JsonParser p, String at, Set<String> allowed, Set<String> seen)
            throws IOException, DesiredStateException {
        String name = fieldName(p, at);
        if (!allowed.contains(name)) {
            throw new DesiredStateException(at + ": unknown member '" + name + "'; expected " + new java.util.TreeSet<>(allowed));
        }
        if (!seen.add(name)) {
            throw new DesiredStateException(at + ": member '" + name + "' appears twice");
        }
        return name;
    }

    private static String fieldName(JsonParser p, String at) throws IOException, DesiredStateException {
        if (p.getTextLength() > 128) {
            throw new DesiredStateException(at + ": a member name is longer than 128 characters");
        }
        return p.currentName();
    }

    private static void expect(JsonToken t, JsonToken expected, String at) throws DesiredStateException {
        if (t != expected) {
            throw new DesiredStateException(at + ": unexpected " + t + " where " + expected + " was expected");
        }
    }

    /** The current token for a message, abbreviated. */
    private static String describe(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) {
            return "the end of the input";
        }
        switch (t) {
            case START_OBJECT:
                return "an object";
            case START_ARRAY:
                return "an array";
            case VALUE_NULL:
                return "null";
            case VALUE_STRING: {
                if (p.getTextLength() > 40) {
                    return "a string of " + p.getTextLength() + " characters";
                }
                return "the string '" + p.getText() + "'";
            }
            case VALUE_NUMBER_INT:
            case VALUE_NUMBER_FLOAT:
                return p.getTextLength() > 40 ? "a number of " + p.getTextLength() + " digits" : p.getText();
            default:
                return p.getText();
        }
    }
}
