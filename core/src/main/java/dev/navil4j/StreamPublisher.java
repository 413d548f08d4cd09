package dev.navil4j;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link ChatSession#publisher}: generation on a background thread pushes pieces into a queue; a drain
 * loop (entered by whichever thread has work: the generator or a {@code request} call, never two at
 * once) hands them to the subscriber while demand lasts, so signals are serialized as Flow requires.
 */
final class StreamPublisher implements Flow.Publisher<String> {
    private final ChatSession session;
    private final Request request;
    private final AtomicBoolean subscribed = new AtomicBoolean();

    StreamPublisher(ChatSession session, Request request) {
        this.session = session;
        this.request = request;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super String> subscriber) {
        if (subscriber == null) throw new NullPointerException("subscriber is null"); // Reactive Streams rule 1.9
        if (!subscribed.compareAndSet(false, true)) {
            reject(subscriber, new IllegalStateException("this answer publisher is single-use and already has a subscriber"));
            return;
        }
        if (!session.tryAcquire()) {
            reject(subscriber, new IllegalStateException("this chat session is already answering a question"));
            return;
        }
        Sub s = new Sub(subscriber);
        try {
            subscriber.onSubscribe(s);
        } catch (Throwable t) {
            session.release();
            throw t;
        }
        Thread.ofPlatform().name("navil4j-generate").daemon(true).start(() -> {
            try {
                session.run(request, s::push, () -> s.cancelled);
                s.finish(null);
            } catch (Throwable t) {
                s.finish(t);
            } finally {
                session.release();
            }
        });
    }

    private static void reject(Flow.Subscriber<? super String> subscriber, Throwable why) {
        subscriber.onSubscribe(new Flow.Subscription() {
            @Override public void request(long n) {}
            @Override public void cancel() {}
        });
        subscriber.onError(why);
    }

    private static final class Sub implements Flow.Subscription {
        private final Flow.Subscriber<? super String> downstream;
        private final ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
        private final AtomicLong demand = new AtomicLong();
        private final AtomicInteger wip = new AtomicInteger();
        volatile boolean cancelled;
        private volatile boolean done;
        private volatile Throwable error;
        private boolean terminated; // only touched inside drain

        Sub(Flow.Subscriber<? super String> downstream) { this.downstream = downstream; }

        void push(String piece) {
            queue.add(piece);
            drain();
        }

        void finish(Throwable t) {
            if (error == null) error = t; // keep a rule-3.9 error already recorded
            done = true;
            drain();
        }

        @Override
        public void request(long n) {
            if (n <= 0) { // Reactive Streams rule 3.9
                error = new IllegalArgumentException("request(" + n + "): demand must be positive");
                cancelled = true;
                done = true;
            } else {
                demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            }
            drain();
        }

        @Override
        public void cancel() {
            cancelled = true;
            queue.clear();
        }

        private void drain() {
            if (wip.getAndIncrement() != 0) return;
            int missed = 1;
            do {
                if (terminated) return;
                // an error is signalled at once (it needs no demand); completion once the buffer is empty
                if (done && error != null) { terminate(); return; }
                long r = demand.get(), e = 0;
                while (e != r && !cancelled) {
                    String v = queue.poll();
                    if (v == null) break;
                    downstream.onNext(v);
                    e++;
                }
                if (e != 0 && r != Long.MAX_VALUE) demand.addAndGet(-e);
                if (!cancelled && done && queue.isEmpty()) { terminate(); return; }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }

        private void terminate() {
            terminated = true;
            if (cancelled && error == null) return; // a cancelled subscription gets no further signal
            if (error != null) downstream.onError(error);
            else downstream.onComplete();
        }
    }
}
