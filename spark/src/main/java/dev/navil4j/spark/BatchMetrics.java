package dev.navil4j.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;
import java.util.List;

/**
 * Job-wide counters, updated by the tasks and read on the driver. Spark merges a task's accumulator updates only
 * when the task succeeds, so a failed and retried attempt is counted once, like its output rows.
 * <p>Besides rows and tokens it keeps what a throughput figure needs apart: the time executors spent loading the
 * model, and each task's answering span (from the moment it had its model to its last row), so that rows/s can be
 * given over the time rows were actually being answered ({@link #warmRowsPerSecond()}).
 */
public final class BatchMetrics implements Serializable {
    /** One successful task's answering span, wall-clock milliseconds (comparable across the JVMs of one host). */
    public record TaskSpan(long startMillis, long endMillis, int rows) implements Serializable {}

    private final LongAccumulator rows, errors, promptTokens, completionTokens, loads, loadMillis;
    private final CollectionAccumulator<TaskSpan> spans;

    private BatchMetrics(SparkContext sc) {
        rows = sc.longAccumulator("navil4j rows");
        errors = sc.longAccumulator("navil4j error rows");
        promptTokens = sc.longAccumulator("navil4j prompt tokens");
        completionTokens = sc.longAccumulator("navil4j completion tokens");
        loads = sc.longAccumulator("navil4j model loads");
        loadMillis = sc.longAccumulator("navil4j model load ms");
        spans = sc.collectionAccumulator("navil4j task spans");
    }

    /** New counters registered with this context. */
    public static BatchMetrics register(SparkContext sc) {
        return new BatchMetrics(sc);
    }

    void answered(int prompt, int completion) {
        rows.add(1);
        promptTokens.add(prompt);
        completionTokens.add(completion);
    }

    void failed() {
        rows.add(1);
        errors.add(1);
    }

    void loaded(long millis) {
        loads.add(1);
        loadMillis.add(millis);
    }

    void span(long startMillis, long endMillis, int rowCount) {
        spans.add(new TaskSpan(startMillis, endMillis, rowCount));
    }

    /** Rows finished by successful tasks (answers and error rows). */
    public long rows() { return rows.value(); }

    /** Rows whose error column is set. */
    public long errors() { return errors.value(); }

    public long promptTokens() { return promptTokens.value(); }

    public long completionTokens() { return completionTokens.value(); }

    /** Model loads by successful tasks (one per executor JVM and checkpoint, plus reloads after a lost executor). */
    public long modelLoads() { return loads.value(); }

    /** Milliseconds those loads took, summed over executors. */
    public long modelLoadMillis() { return loadMillis.value(); }

    /** The answering spans of the successful tasks that had rows. */
    public List<TaskSpan> taskSpans() { return List.copyOf(spans.value()); }

    /**
     * Rows per second while rows were being answered: all rows over the wall time from the first task that had its
     * model to the end of the last task. Model loading (and tasks waiting for it) is outside that time; JIT warm-up
     * and Spark's own per-task work are inside, as they are in a real job. NaN when no task answered a row.
     */
    public double warmRowsPerSecond() {
        List<TaskSpan> s = taskSpans();
        if (s.isEmpty()) return Double.NaN;
        long start = s.stream().mapToLong(TaskSpan::startMillis).min().orElseThrow();
        long end = s.stream().mapToLong(TaskSpan::endMillis).max().orElseThrow();
        long n = s.stream().mapToLong(TaskSpan::rows).sum();
        return n / (Math.max(1, end - start) / 1000.0);
    }
}
