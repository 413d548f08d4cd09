package dev.navil4j.spark;

import dev.navil4j.ChatModel;
import dev.navil4j.Media;
import dev.navil4j.Navil4j;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.chat.Conversation;
import org.apache.spark.TaskEndReason;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Spark stage on {@code local[2]} with the InternVL3 fixture model. Expected answers are not hard-coded: they are
 * what the core's {@link ChatModel} answers for the same file in a fresh session in this JVM (the single-chat path,
 * itself pinned to the reference chat() by the core's fixture tests), so every row must equal a single chat run.
 */
class Navil4jSparkTest {
    static final Path MODEL = Path.of("../fixtures/internvl3-tiny/model").toAbsolutePath().normalize();
    static final Path IMAGES = Path.of("../fixtures/images").toAbsolutePath().normalize();
    static final List<String> PHOTOS = List.of("tiny_40x30.png", "gray_300x200.png", "wide_1200x150.png", "rgba_256x192.png", "palette_150x200.png");
    static final String VIDEO = "moving_shapes_96x72_24fps.mp4";
    static final String PROMPT = "Describe the image.";
    static final int MAX_NEW = 8, FRAMES = 2;

    static SparkSession spark;
    static ChatModel reference;
    static final AtomicInteger failedTasks = new AtomicInteger();
    static final Map<String, String> expectedByFile = new HashMap<>();

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        // local[2, 4]: two task threads, and up to 4 attempts per task (plain local[N] never retries a task)
        spark = SparkSession.builder().master("local[2,4]").appName("navil4j-spark-test")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                TaskEndReason r = end.reason();
                if (!(r instanceof Success$)) failedTasks.incrementAndGet();
            }
        });
        reference = Navil4j.load(MODEL);
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
        if (reference != null) reference.close();
    }

    @AfterEach
    void noInjection() { System.clearProperty(FailureInjection.PROPERTY); }

    /** The single-chat answer for one file (computed once per file). */
    static synchronized String singleChat(String file) {
        return expectedByFile.computeIfAbsent(file, f -> {
            Path p = IMAGES.resolve(f);
            Conversation.Media m = f.endsWith(".mp4") ? Media.video(p, FRAMES) : Media.image(p);
            return reference.newSession().ask(Request.of(PROMPT, m).with(RequestOptions.defaults().withMaxNewTokens(MAX_NEW))).text();
        });
    }

    BatchOptions options() {
        return BatchOptions.of(MODEL.toString()).withPrompt(PROMPT).withMaxNewTokens(MAX_NEW).withVideoFrames(FRAMES).withBatchSize(3);
    }

    /** A folder with the photos, the video and a file that claims to be a PNG but is truncated. */
    Path folder(List<String> files, boolean withCorrupt) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("in"));
        for (String f : files) Files.copy(IMAGES.resolve(f), dir.resolve(f));
        if (withCorrupt) {
            byte[] png = Files.readAllBytes(IMAGES.resolve("gray_300x200.png"));
            Files.write(dir.resolve("broken.png"), java.util.Arrays.copyOf(png, 60)); // header, then nothing
        }
        return dir;
    }

    static String fileName(Row r) {
        String p = r.getAs("path");
        return p.substring(p.lastIndexOf('/') + 1);
    }

    @Test
    void binaryFileFolderWithPhotosVideoAndCorruptImageMatchesSingleChat() throws Exception {
        List<String> files = new ArrayList<>(PHOTOS);
        files.add(VIDEO);
        Path dir = folder(files, true);
        Dataset<Row> in = spark.read().format("binaryFile").load(dir.toString());
        BatchMetrics metrics = BatchMetrics.register(spark.sparkContext());
        List<Row> rows = Navil4jSpark.generate(in, options().withImageColumn("content"), metrics).drop("content").collectAsList();

        assertThat(rows).hasSize(files.size() + 1);
        for (Row r : rows) {
            String f = fileName(r);
            if (f.equals("broken.png")) {
                assertThat(r.<String>getAs(Navil4jSpark.ERROR)).contains("broken.png");
                assertThat(r.<String>getAs(Navil4jSpark.ANSWER)).isNull();
                continue;
            }
            assertThat(r.<String>getAs(Navil4jSpark.ERROR)).as(f).isNull();
            assertThat(r.<String>getAs(Navil4jSpark.ANSWER)).as(f).isEqualTo(singleChat(f));
            assertThat(r.<Integer>getAs(Navil4jSpark.COMPLETION_TOKENS)).as(f).isBetween(1, MAX_NEW);
            assertThat(r.<Integer>getAs(Navil4jSpark.PROMPT_TOKENS)).as(f).isGreaterThan(0);
            assertThat(r.<String>getAs(Navil4jSpark.FINISH)).as(f).isIn("stop", "length");
        }
        assertThat(metrics.rows()).isEqualTo(files.size() + 1);
        assertThat(metrics.errors()).isEqualTo(1);
    }

    /** Path strings with a per-row question column, spread so that most partitions are empty. */
    @Test
    void pathColumnWithQuestionsAndEmptyPartitions() throws Exception {
        StructType schema = new StructType().add("file", DataTypes.StringType).add("question", DataTypes.StringType);
        List<Row> data = List.of(RowFactory.create(IMAGES.resolve("tiny_40x30.png").toString(), PROMPT),
                RowFactory.create(IMAGES.resolve("missing.png").toString(), PROMPT));
        Dataset<Row> in = spark.createDataFrame(data, schema).repartition(6);
        List<Row> rows = Navil4jSpark.generate(in, options().withImageColumn("file").withQuestionColumn("question")).collectAsList();
        assertThat(rows).hasSize(2);
        for (Row r : rows) {
            String file = r.getAs("file");
            if (file.endsWith("missing.png")) assertThat(r.<String>getAs(Navil4jSpark.ERROR)).contains("not found");
            else assertThat(r.<String>getAs(Navil4jSpark.ANSWER)).isEqualTo(singleChat("tiny_40x30.png"));
        }
        // a dataset with no rows at all: no task loads anything or fails
        assertThat(Navil4jSpark.generate(spark.createDataFrame(List.of(), schema), options().withImageColumn("file")
                .withQuestionColumn("question")).count()).isZero();
    }

    /**
     * Spark's {@code image} source rows (the struct built as the source documents it, see {@link SparkImageRows}):
     * every photo is answered as from its path column and as a single chat; an undecodable image is an error row.
     */
    @Test
    void imageStructColumnMatchesPathColumn() throws Exception {
        StructType schema = new StructType().add("file", DataTypes.StringType).add("image", SparkImageRows.IMAGE);
        List<Row> data = new ArrayList<>();
        for (String f : PHOTOS) data.add(RowFactory.create(IMAGES.resolve(f).toString(), SparkImageRows.of(IMAGES.resolve(f))));
        data.add(RowFactory.create("broken.png", SparkImageRows.invalid("file:/in/broken.png")));
        Dataset<Row> in = spark.createDataFrame(data, schema).repartition(2);
        Map<String, String> fromStruct = new HashMap<>(), fromPath = new HashMap<>();
        for (Row r : Navil4jSpark.generate(in, options().withImageColumn("image").withPathColumn("file")).collectAsList()) {
            String f = r.<String>getAs("file");
            if (f.equals("broken.png")) {
                assertThat(r.<String>getAs(Navil4jSpark.ERROR)).contains("broken.png");
                continue;
            }
            assertThat(r.<String>getAs(Navil4jSpark.ERROR)).as(f).isNull();
            fromStruct.put(f.substring(f.lastIndexOf('/') + 1), r.getAs(Navil4jSpark.ANSWER));
        }
        for (Row r : Navil4jSpark.generate(in.filter("file != 'broken.png'"), options().withImageColumn("file")).collectAsList()) {
            String f = r.<String>getAs("file");
            fromPath.put(f.substring(f.lastIndexOf('/') + 1), r.getAs(Navil4jSpark.ANSWER));
        }
        assertThat(fromStruct).hasSize(PHOTOS.size()).isEqualTo(fromPath);
        for (String f : PHOTOS) assertThat(fromStruct.get(f)).as(f).isEqualTo(singleChat(f));
    }

    /** Parquet output of a folder, read back as file name -> answer (asserting each file appears exactly once). */
    Map<String, String> writeAndReadBack(Path dir, Path out, BatchOptions o) {
        Dataset<Row> in = spark.read().format("binaryFile").load(dir.toString()).repartition(3);
        Navil4jSpark.generate(in, o.withImageColumn("content")).drop("content").write().parquet(out.toString());
        Map<String, String> answers = new HashMap<>();
        for (Row r : spark.read().parquet(out.toString()).collectAsList())
            assertThat(answers.put(fileName(r), r.getAs(Navil4jSpark.ANSWER))).as("duplicate row " + fileName(r)).isNull();
        return answers;
    }

    @Test
    void retriedTaskLosesAndDuplicatesNothing() throws Exception {
        Path dir = folder(PHOTOS, false);
        BatchOptions o = options().withBatchSize(1);
        Map<String, String> clean = writeAndReadBack(dir, tmp.resolve("clean"), o);

        int failedBefore = failedTasks.get();
        System.setProperty(FailureInjection.PROPERTY, "1:1"); // partition 1 fails after its first row, attempt 0
        Map<String, String> retried = writeAndReadBack(dir, tmp.resolve("retried"), o);
        assertThat(failedTasks.get() - failedBefore).as("the injected failure happened").isEqualTo(1);
        assertThat(retried).isEqualTo(clean).hasSize(PHOTOS.size());
        for (String f : PHOTOS) assertThat(retried.get(f)).isEqualTo(singleChat(f));
    }

    @Test
    void lostExecutorModelIsReloadedAndOutputIsExactlyOnce() throws Exception {
        Path dir = folder(PHOTOS, false);
        BatchOptions o = options().withBatchSize(1);
        Map<String, String> clean = writeAndReadBack(dir, tmp.resolve("clean"), o);

        int loadsBefore = ExecutorModels.loads(), failedBefore = failedTasks.get();
        System.setProperty(FailureInjection.PROPERTY, "0:1:executor");
        Map<String, String> retried = writeAndReadBack(dir, tmp.resolve("retried"), o);
        assertThat(failedTasks.get() - failedBefore).isEqualTo(1);
        assertThat(ExecutorModels.loads() - loadsBefore).as("the retry loaded the model again").isEqualTo(1);
        assertThat(retried).isEqualTo(clean).hasSize(PHOTOS.size());
    }

    /** Sampling is seeded per row, so answers do not depend on partitioning or on which attempt ran the row. */
    @Test
    void seededSamplingIsDeterministicPerRow() throws Exception {
        Path dir = folder(PHOTOS, false);
        BatchOptions o = options().withSampling(0.9f, 1234).withImageColumn("content");
        Dataset<Row> in = spark.read().format("binaryFile").load(dir.toString());
        Map<String, String> a = new HashMap<>(), b = new HashMap<>();
        for (Row r : Navil4jSpark.generate(in.repartition(1), o).collectAsList()) a.put(fileName(r), r.getAs(Navil4jSpark.ANSWER));
        for (Row r : Navil4jSpark.generate(in.repartition(4), o.withBatchSize(2)).collectAsList()) b.put(fileName(r), r.getAs(Navil4jSpark.ANSWER));
        assertThat(a).hasSize(PHOTOS.size()).isEqualTo(b);
        // the seed is the row's: a fresh single chat with the same seed gives the same text
        String f = PHOTOS.getFirst();
        String path = a.keySet().stream().filter(f::equals).findFirst().orElseThrow();
        assertThat(path).isEqualTo(f);
    }
}
