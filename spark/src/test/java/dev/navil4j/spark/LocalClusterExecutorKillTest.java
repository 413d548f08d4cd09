package dev.navil4j.spark;

import dev.navil4j.ChatModel;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real executor kill: Spark's {@code local-cluster[2,1,1024]} master runs a standalone master and two workers in
 * this JVM, and each worker launches its executor as a separate child JVM. The failure hook halts one executor
 * process in the middle of a partition (after it has already handed rows to the Parquet writer); Spark must re-run
 * the lost task on another executor and the committed output must equal the clean run, each row exactly once.
 * <p>Expected answers are the core's single-chat answers for the same files computed in this JVM (itself pinned to
 * the reference chat() by the core's fixture tests).
 * <p>Setup without a Spark distribution: a worker's launcher (WorkerCommandBuilder) wants {@code $SPARK_HOME/jars} to
 * exist and a Scala version; the pom points SPARK_HOME at {@code target/spark-home} (created here with an empty
 * {@code jars/}), the Scala version goes to the executor environment ({@code spark.executorEnv.*}), and the executor
 * class path is this JVM's test class path ({@code spark.executor.extraClassPath}).
 */
class LocalClusterExecutorKillTest {
    static final Path MODEL = Navil4jSparkTest.MODEL;
    static final Path IMAGES = Navil4jSparkTest.IMAGES;
    /** Four small photos and few new tokens: the executors are fresh JVMs, so every row here runs cold code. */
    static final List<String> PHOTOS = List.of("tiny_40x30.png", "gray_300x200.png", "palette_150x200.png", "rgba_256x192.png");
    static final String PROMPT = Navil4jSparkTest.PROMPT;
    static final int MAX_NEW = 4;

    static SparkSession spark;
    static final AtomicInteger executorLostTasks = new AtomicInteger(), otherFailedTasks = new AtomicInteger();
    static final Set<String> executorsAdded = ConcurrentHashMap.newKeySet(), executorsRemoved = ConcurrentHashMap.newKeySet();

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        String sparkHome = System.getenv("SPARK_HOME");
        assertThat(sparkHome).as("SPARK_HOME (set by the spark module's surefire configuration)").isNotBlank();
        Files.createDirectories(Path.of(sparkHome, "jars"));
        String executorOptions = System.getProperty("navil4j.test.executorJavaOptions",
                "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED");
        spark = SparkSession.builder().master("local-cluster[2,1,1024]").appName("navil4j-executor-kill-test")
                .config("spark.ui.enabled", "false")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .config("spark.executor.extraJavaOptions", executorOptions + " -Dnavil4j.threads=1")
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.task.maxFailures", "4")
                .getOrCreate();
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                if (end.reason() instanceof ExecutorLostFailure) executorLostTasks.incrementAndGet();
                else if (!(end.reason() instanceof org.apache.spark.Success$)) otherFailedTasks.incrementAndGet();
            }

            @Override
            public void onExecutorAdded(SparkListenerExecutorAdded e) { executorsAdded.add(e.executorId()); }

            @Override
            public void onExecutorRemoved(SparkListenerExecutorRemoved e) { executorsRemoved.add(e.executorId()); }
        });
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** Path strings in two partitions of two rows, no shuffle: the lost task is re-read from its input. */
    Dataset<Row> input() {
        StructType schema = new StructType().add("path", DataTypes.StringType);
        List<Row> rows = PHOTOS.stream().map(f -> RowFactory.create(IMAGES.resolve(f).toString())).toList();
        return spark.createDataFrame(new JavaSparkContext(spark.sparkContext()).parallelize(rows, 2), schema);
    }

    Map<String, String> writeAndReadBack(Path out) {
        BatchOptions o = BatchOptions.of(MODEL.toString()).withImageColumn("path").withPrompt(PROMPT)
                .withMaxNewTokens(MAX_NEW).withBatchSize(1);
        Navil4jSpark.generate(input(), o).write().parquet(out.toString());
        Map<String, String> answers = new HashMap<>();
        for (Row r : spark.read().parquet(out.toString()).collectAsList()) {
            String p = r.getAs("path");
            String f = p.substring(p.lastIndexOf('/') + 1);
            assertThat(r.<String>getAs(Navil4jSpark.ERROR)).as(f).isNull();
            assertThat(answers.put(f, r.getAs(Navil4jSpark.ANSWER))).as("duplicate row " + f).isNull();
        }
        return answers;
    }

    @Test
    void killedExecutorProcessLosesAndDuplicatesNothing() throws Exception {
        Map<String, String> clean = writeAndReadBack(tmp.resolve("clean"));
        assertThat(clean).hasSize(PHOTOS.size());
        assertThat(executorsRemoved).as("no executor lost in the clean run").isEmpty();

        Path marker = tmp.resolve("halted-once");
        // partition 1 (two rows) halts its executor JVM after its first row has gone to the writer
        spark.sparkContext().setLocalProperty(FailureInjection.PROPERTY, "1:1:halt:" + marker);
        Map<String, String> afterKill;
        try {
            afterKill = writeAndReadBack(tmp.resolve("killed"));
        } finally {
            spark.sparkContext().setLocalProperty(FailureInjection.PROPERTY, null);
        }
        assertThat(marker).as("an executor was halted").exists();
        assertThat(executorsRemoved).as("the halted executor was reported lost").hasSize(1);
        assertThat(executorLostTasks.get()).as("the lost executor's running task failed with ExecutorLostFailure").isGreaterThanOrEqualTo(1);
        assertThat(otherFailedTasks.get()).isZero();
        assertThat(afterKill).isEqualTo(clean);

        try (ChatModel reference = Navil4j.load(MODEL)) {
            for (String f : PHOTOS) {
                String expected = reference.newSession().ask(Request.of(PROMPT, Media.image(IMAGES.resolve(f)))
                        .with(RequestOptions.defaults().withMaxNewTokens(MAX_NEW))).text();
                assertThat(afterKill.get(f)).as(f).isEqualTo(expected);
            }
        }
    }
}
