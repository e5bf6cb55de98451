package org.secondsite.itests;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One entry of {@code GET /api/v1/replication} (one disk at one stage), parsed from its JSON
 * without a JSON library: the entries are flat objects of strings, numbers and nulls.
 */
record StageStatus(String disk, String stage, String state, String message, long lastSequence,
                   long acknowledgedSequence, long backlogBytes, long bytesIn, long bytesOut) {

    private static final Pattern FIELD =
            Pattern.compile("\"(\\w+)\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|-?\\d+|null|true|false)");

    /** Parses the JSON list the endpoint returns. */
    static List<StageStatus> parseList(String json) {
        List<StageStatus> out = new ArrayList<>();
        int depth = 0;
        int start = -1;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{') {
                if (depth++ == 0) {
                    start = i;
                }
            } else if (c == '}' && --depth == 0) {
                out.add(parseObject(json.substring(start, i + 1)));
            }
        }
        return out;
    }

    private static StageStatus parseObject(String obj) {
        java.util.Map<String, String> f = new java.util.HashMap<>();
        Matcher m = FIELD.matcher(obj);
        while (m.find()) {
            String v = m.group(2);
            f.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
        }
        return new StageStatus(f.get("disk"), f.get("stage"), f.get("state"), f.getOrDefault("message", ""),
                num(f, "lastSequence"), num(f, "acknowledgedSequence"), num(f, "backlogBytes"), num(f, "bytesIn"),
                num(f, "bytesOut"));
    }

    private static long num(java.util.Map<String, String> f, String key) {
        String v = f.get(key);
        if (v == null || v.equals("null")) {
            throw new IllegalArgumentException("replication status has no number '" + key + "': " + f);
        }
        return Long.parseLong(v);
    }
}
