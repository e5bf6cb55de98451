package org.secondsite.processserver.internal;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import org.secondsite.wire.HashStatus;
import org.secondsite.wire.Message;
import org.secondsite.wire.MessageCodec;
import org.secondsite.wire.WireProtocol;

/**
 * Relays the resync's HASH_QUERY from agents to the master target and routes each HASHES back
 * to the agent connection that asked (docs/PROTOCOL.md §3.11-3.12). Queries get a request id of
 * the process server's own on the master-target connection (agents choose theirs independently),
 * and travel outside the spool: they are sent on that connection as soon as they arrive, beside
 * the batches, never behind the spool backlog. The master target itself waits until the replica
 * has applied the sequence a query names.
 *
 * <p>While there is no master-target connection, and for every query in flight when one ends, the
 * agent is answered RETRY at once with the reason, so it asks again rather than waiting for a
 * timeout. Thread-safe.
 */
final class HashRelay {
    private static final System.Logger LOG = System.getLogger(HashRelay.class.getName());

    /** An agent connection that can take relayed frames. */
    interface AgentLink {
        /** Queues a frame for the agent, after nothing in particular (HASHES need no order). */
        void relay(ByteBuffer frame);
    }

    private record Route(AgentLink agent, long agentRequestId, Message.HashQuery query, long epoch) {
    }

    // ---- guarded by this ----
    private long nextId = 1;
    /** The current master-target connection, 0 when there is none. */
    private long epoch;
    private long epochs;
    private String down = "not connected to the master target yet";
    private final Map<Long, Route> routes = new HashMap<>();
    private final Map<AgentLink, Integer> perAgent = new HashMap<>();
    private final ArrayDeque<Message.HashQuery> outbound = new ArrayDeque<>();
    private long relayed;

    /**
     * A query from {@code agent}: relayed, or answered RETRY when the master target cannot be
     * reached now.
     *
     * @return false if that agent connection already has
     *         {@link WireProtocol#MAX_HASH_QUERIES_IN_FLIGHT} queries unanswered (a protocol violation)
     */
    boolean query(AgentLink agent, Message.HashQuery q) {
        String refusal;
        synchronized (this) {
            int n = perAgent.getOrDefault(agent, 0);
            if (n >= WireProtocol.MAX_HASH_QUERIES_IN_FLIGHT) {
                return false;
            }
            if (epoch == 0) {
                refusal = "process server is not connected to the master target (" + down + "); ask again";
            } else if (routes.size() >= WireProtocol.MAX_HASH_QUERIES_IN_FLIGHT) {
                refusal = "process server already has " + routes.size()
                        + " hash queries in flight to the master target; ask again";
            } else {
                long id = nextId++;
                routes.put(id, new Route(agent, q.requestId(), q, epoch));
                perAgent.merge(agent, 1, Integer::sum);
                outbound.addLast(q.withRequestId(id));
                notifyAll();
                return true;
            }
        }
        agent.relay(MessageCodec.encode(Message.Hashes.refuse(q, HashStatus.RETRY, 0, refusal)));
        return true;
    }

    /** A master-target connection is ready for queries; returns its epoch. */
    synchronized long connected() {
        epoch = ++epochs;
        notifyAll();
        return epoch;
    }

    /** The master-target connection of {@code e} ended: its queries are answered RETRY with {@code why}. */
    void disconnected(long e, String why) {
        List<Route> lost = new ArrayList<>();
        synchronized (this) {
            if (epoch == e) {
                epoch = 0;
                down = why;
                outbound.clear();
            }
            for (Iterator<Route> it = routes.values().iterator(); it.hasNext(); ) {
                Route r = it.next();
                if (r.epoch() == e) {
                    it.remove();
                    perAgent.computeIfPresent(r.agent(), (k, n) -> n <= 1 ? null : n - 1);
                    lost.add(r);
                }
            }
            notifyAll();
        }
        for (Route r : lost) {
            r.agent().relay(MessageCodec.encode(Message.Hashes.refuse(r.query(), HashStatus.RETRY, 0,
                    "the process server's connection to the master target ended (" + why + "); ask again")));
        }
    }

    /**
     * The next query to send on the master-target connection of epoch {@code e}, waiting up to
     * {@code millis}; null when there is none or that connection is no longer current.
     */
    synchronized Message.HashQuery next(long e, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (epoch == e && outbound.isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            wait(Math.max(1, left / 1_000_000L));
        }
        return epoch == e ? outbound.pollFirst() : null;
    }

    /** An answer from the master target: back to the agent that asked, with the agent's request id. */
    void answer(Message.Hashes h) {
        Route r;
        synchronized (this) {
            r = routes.remove(h.requestId());
            if (r != null) {
                perAgent.computeIfPresent(r.agent(), (k, n) -> n <= 1 ? null : n - 1);
                relayed++;
            }
        }
        if (r == null) {
            LOG.log(Level.DEBUG, "process server: HASHES " + h.requestId() + " of disk " + h.disk()
                    + " answers no query in flight (its agent left); dropped");
            return;
        }
        r.agent().relay(MessageCodec.encode(h.withRequestId(r.agentRequestId())));
    }

    /** The agent connection ended: answers to its queries are dropped when they come. */
    synchronized void agentGone(AgentLink agent) {
        routes.values().removeIf(r -> r.agent() == agent);
        perAgent.remove(agent);
    }

    /** Whether {@code e} is still the current master-target connection. */
    synchronized boolean current(long e) {
        return epoch == e;
    }

    /** Queries in flight to the master target (for tests and status). */
    synchronized int inFlight() {
        return routes.size();
    }

    /** Answers relayed back to agents since start. */
    synchronized long relayed() {
        return relayed;
    }
}
