package dev.navil4j.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;

/**
 * Job-wide counters, updated by the tasks and read on the driver. Spark merges a task's accumulator updates only
 * when the task succeeds, so a failed and retried attempt is counted once, like its output rows.
 */
public final class BatchMetrics implements Serializable {
    private final LongAccumulator rows, errors, promptTokens, completionTokens;

    private BatchMetrics(LongAccumulator rows, LongAccumulator errors, LongAccumulator promptTokens, LongAccumulator completionTokens) {
        this.rows = rows;
        this.errors = errors;
        this.promptTokens = promptTokens;
        this.completionTokens = completionTokens;
    }

    /** New counters registered with this context. */
    public static BatchMetrics register(SparkContext sc) {
        return new BatchMetrics(sc.longAccumulator("navil4j rows"), sc.longAccumulator("navil4j error rows"),
                sc.longAccumulator("navil4j prompt tokens"), sc.longAccumulator("navil4j completion tokens"));
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

    /** Rows finished by successful tasks (answers and error rows). */
    public long rows() { return rows.value(); }

    /** Rows whose error column is set. */
    public long errors() { return errors.value(); }

    public long promptTokens() { return promptTokens.value(); }

    public long completionTokens() { return completionTokens.value(); }
}
