package org.secondsite.agent.internal;

/**
 * Counters of a disk's resyncs since the agent started, for tests, benchmarks and diagnostics.
 *
 * @param queries HASH_QUERY sent (both levels, retries included)
 * @param hashBytesReceived bytes of hashes received in HASHES answers
 * @param dataBytesSent bytes of source data put into the stream because they differed
 * @param appendsRefused appends refused because a workload write to the same range raced them; in a
 *        verification, differing ranges compared again because a workload write touched them
 * @param retries queries asked again (RETRY answers, timeouts)
 */
public record ResyncFigures(long queries, long hashBytesReceived, long dataBytesSent, long appendsRefused,
                            long retries) {
}
