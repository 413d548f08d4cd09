package dev.navil4j.spark;

import org.apache.spark.TaskContext;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test hook: makes one partition fail midway, to check that Spark's retry loses and duplicates nothing. Off unless
 * the spec {@value #PROPERTY} is set, either as a Spark local property on the driver
 * ({@code sc.setLocalProperty}, which travels with every task to whichever executor JVM runs it) or as a system
 * property of the executor JVM ({@code -Dnavil4j.spark.failOnce=…}). Spec forms:
 * <ul>
 *   <li>{@code PARTITION:ROWS}: attempt 0 of partition PARTITION throws after answering ROWS rows;</li>
 *   <li>{@code PARTITION:ROWS:executor}: the same, but it first drops this JVM's loaded models, as a lost executor
 *       does, so the retry must load the model again (a simulation inside one JVM);</li>
 *   <li>{@code PARTITION:ROWS:halt:MARKER}: the executor JVM itself dies ({@link Runtime#halt}, no shutdown hooks,
 *       as a killed process does) after answering ROWS rows of that partition, unless the file MARKER already
 *       exists; the file is created first, so only the first attempt anywhere in the cluster dies.</li>
 * </ul>
 */
final class FailureInjection {
    static final String PROPERTY = "navil4j.spark.failOnce";
    /** The exit status of a halted executor (what the worker reports as the executor's exit code). */
    static final int HALT_STATUS = 57;

    private FailureInjection() {}

    /** Thrown by the hook (never by real work). */
    static final class InjectedFailure extends RuntimeException {
        InjectedFailure(String m) { super(m); }
    }

    static void check(int rowsDoneInPartition) {
        TaskContext tc = TaskContext.get();
        if (tc == null) return;
        String spec = tc.getLocalProperty(PROPERTY);
        if (spec == null || spec.isBlank()) spec = System.getProperty(PROPERTY);
        if (spec == null || spec.isBlank()) return;
        String[] f = spec.split(":", 4);
        int partition = Integer.parseInt(f[0].trim()), rows = Integer.parseInt(f[1].trim());
        String mode = f.length > 2 ? f[2].trim() : "";
        if (tc.partitionId() != partition || rowsDoneInPartition < rows) return;
        if (mode.equals("halt")) {
            if (f.length < 4 || f[3].isBlank()) throw new IllegalArgumentException(PROPERTY + ": halt needs a marker file");
            haltOnce(Path.of(f[3]), partition, rowsDoneInPartition, tc);
            return;
        }
        if (tc.attemptNumber() != 0) return;
        boolean executor = mode.equals("executor");
        if (executor) ExecutorModels.forgetAll();
        throw new InjectedFailure("injected failure in partition " + partition + " after " + rowsDoneInPartition
                + " rows (attempt 0" + (executor ? ", executor models dropped" : "") + ")");
    }

    private static void haltOnce(Path marker, int partition, int rows, TaskContext tc) {
        try {
            Files.createFile(marker); // atomic: exactly one attempt in the whole cluster wins and dies
        } catch (FileAlreadyExistsException e) {
            return;
        } catch (IOException e) {
            throw new IllegalStateException(PROPERTY + ": cannot create the marker " + marker + ": " + e.getMessage(), e);
        }
        System.err.printf("navil4j FailureInjection: halting executor JVM %d in partition %d (attempt %d) after %d rows%n",
                ProcessHandle.current().pid(), partition, tc.attemptNumber(), rows);
        System.err.flush();
        Runtime.getRuntime().halt(HALT_STATUS);
    }
}
