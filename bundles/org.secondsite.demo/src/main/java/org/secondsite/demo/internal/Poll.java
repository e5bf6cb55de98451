package org.secondsite.demo.internal;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Waits for a condition that offers no notification, by checking it on a schedule. */
final class Poll {
    private Poll() {
    }

    /**
     * Returns once {@code condition} holds.
     *
     * @throws TimeoutException naming {@code what} if it does not hold within {@code budget}
     */
    static void until(String what, BooleanSupplier condition, Duration interval, Duration budget)
            throws TimeoutException, InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "secondsite-demo-poll");
            t.setDaemon(true);
            return t;
        });
        try {
            timer.scheduleWithFixedDelay(() -> {
                try {
                    if (condition.getAsBoolean()) {
                        done.complete(null);
                    }
                } catch (RuntimeException e) {
                    done.completeExceptionally(e);
                }
            }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
            done.get(budget.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new TimeoutException("gave up after " + budget.toSeconds() + " s waiting for " + what);
        } catch (ExecutionException e) {
            throw new IllegalStateException("while waiting for " + what + ": " + e.getCause(), e.getCause());
        } finally {
            timer.shutdownNow();
        }
    }
}
