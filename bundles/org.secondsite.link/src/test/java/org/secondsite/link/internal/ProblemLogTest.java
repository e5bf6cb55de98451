package org.secondsite.link.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class ProblemLogTest {

    @Test
    void eachProblemIsLoggedOncePerChangeOfState() {
        List<String> lines = new ArrayList<>();
        Logger logger = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> {
                    if (args != null && args.length == 1 && args[0] instanceof String s) {
                        lines.add(method.getName() + " " + s);
                    }
                    return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
                });
        ProblemLog log = new ProblemLog(logger);
        for (int i = 0; i < 5; i++) {
            log.warn("HTTP 503", "heartbeat refused: HTTP 503 at attempt " + i);
        }
        log.error("HTTP 401", "heartbeat refused: HTTP 401");
        log.error("HTTP 401", "heartbeat refused: HTTP 401, another date");
        log.clear("heartbeats accepted again");
        log.clear("heartbeats accepted again");
        log.error("same text");
        log.error("same text");
        assertEquals(List.of("warn heartbeat refused: HTTP 503 at attempt 0", "error heartbeat refused: HTTP 401",
                "info heartbeats accepted again", "error same text"), lines);
    }
}
