package dev.navil4j.spark;

import org.apache.spark.TaskContext;

/**
 * Test hook: makes the first attempt of one partition fail midway, to check that Spark's retry loses and
 * duplicates nothing. Set on the executors' JVM with {@code -Dnavil4j.spark.failOnce=PARTITION:ROWS[:executor]}:
 * attempt 0 of partition PARTITION throws after answering ROWS rows; with {@code :executor} it first drops this
 * JVM's loaded models, as a lost executor does, so the retry must load the model again. Off unless set.
 */
final class FailureInjection {
    static final String PROPERTY = "navil4j.spark.failOnce";

    private FailureInjection() {}

    /** Thrown by the hook (never by real work). */
    static final class InjectedFailure extends RuntimeException {
        InjectedFailure(String m) { super(m); }
    }

    static void check(int rowsDoneInPartition) {
        String spec = System.getProperty(PROPERTY);
        if (spec == null || spec.isBlank()) return;
        TaskContext tc = TaskContext.get();
        if (tc == null || tc.attemptNumber() != 0) return;
        String[] f = spec.split(":");
        int partition = Integer.parseInt(f[0].trim()), rows = Integer.parseInt(f[1].trim());
        boolean executor = f.length > 2 && f[2].trim().equals("executor");
        if (tc.partitionId() != partition || rowsDoneInPartition < rows) return;
        if (executor) ExecutorModels.forgetAll();
        throw new InjectedFailure("injected failure in partition " + partition + " after " + rowsDoneInPartition
                + " rows (attempt 0" + (executor ? ", executor models dropped" : "") + ")");
    }
}
