package dev.navil4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code spark/navil4j-spark-batch --model M --input DIR --output DIR [--prompt TEXT] [--cores N] [--max-new-tokens N] …}:
 * answers one prompt about every file of a folder (images and videos, read with Spark's {@code binaryFile} source) in
 * local mode and writes Parquet (input path, answer, finish reason, token counts, error) through Spark's committer.
 * Progress (rows done / total, rows/s) goes to stderr every two seconds; the summary at the end gives rows/s over the
 * whole job and, apart, the model load time and rows/s while rows were being answered. On a cluster, call
 * {@link Navil4jSpark#generate} from your own job instead.
 */
public final class SparkBatch {
    private SparkBatch() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.err));
    }

    /** Input partitions per core by default: enough that the last wave of tasks leaves few cores idle. */
    static final int DEFAULT_PARTITIONS_PER_CORE = 4;

    static int run(String[] args, PrintStream err) throws Exception {
        String model = null, input = null, output = null, prompt = "Describe the image.", weights = "auto";
        int cores = Runtime.getRuntime().availableProcessors(), maxNew = 64, maxTiles = 0, batchSize = 8;
        int partitionsPerCore = DEFAULT_PARTITIONS_PER_CORE;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) { usage(err); return 0; }
            if (i + 1 >= args.length) { err.println("navil4j-spark-batch: " + a + " needs a value (see --help)"); return 2; }
            String v = args[++i];
            try {
                switch (a) {
                    case "--model" -> model = v;
                    case "--input" -> input = v;
                    case "--output" -> output = v;
                    case "--prompt" -> prompt = v;
                    case "--weights" -> weights = v;
                    case "--cores" -> cores = Integer.parseInt(v);
                    case "--max-new-tokens" -> maxNew = Integer.parseInt(v);
                    case "--max-tiles" -> maxTiles = Integer.parseInt(v);
                    case "--batch-size" -> batchSize = Integer.parseInt(v);
                    case "--partitions-per-core" -> partitionsPerCore = Integer.parseInt(v);
                    default -> { err.println("navil4j-spark-batch: unknown option " + a + " (see --help)"); return 2; }
                }
            } catch (NumberFormatException e) {
                err.println("navil4j-spark-batch: " + a + " needs a whole number, got '" + v + "'");
                return 2;
            }
        }
        if (model == null || input == null || output == null) {
            err.println("navil4j-spark-batch: --model, --input and --output are required (see --help)");
            return 2;
        }
        if (cores < 1) { err.println("navil4j-spark-batch: --cores must be >= 1"); return 2; }
        if (partitionsPerCore < 1) { err.println("navil4j-spark-batch: --partitions-per-core must be >= 1"); return 2; }
        if (maxNew < 0 || maxTiles < 0 || batchSize < 1) {
            err.println("navil4j-spark-batch: --max-new-tokens and --max-tiles must be >= 0, --batch-size >= 1");
            return 2;
        }
        String modelPath = Path.of(model).toFile().exists() ? Path.of(model).toAbsolutePath().toString() : model;
        // binaryFile packs small files into splits of up to 128 MiB (each file counted as its size + 4 MiB "open
        // cost"), so a folder of photos lands in a handful of partitions: 128 files gave 5 on 2 cores, and the last
        // wave ran on one core. minPartitionNum asks the file source for cores × k splits instead, without a shuffle
        // (a repartition would copy every image's bytes through Spark's shuffle).
        SparkSession spark = SparkSession.builder().master("local[" + cores + "]").appName("navil4j-spark-batch")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.files.minPartitionNum", Integer.toString(cores * partitionsPerCore))
                .getOrCreate();
        try {
            Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(input);
            long total = files.count();
            int partitions = files.rdd().getNumPartitions();
            err.printf(Locale.ROOT, "navil4j-spark-batch: %d files in %d partitions on local[%d] (1 compute thread per task)%n",
                    total, partitions, cores);
            BatchMetrics metrics = BatchMetrics.register(spark.sparkContext());
            BatchOptions options = BatchOptions.of(modelPath).withImageColumn("content").withPrompt(prompt)
                    .withMaxNewTokens(maxNew).withMaxTiles(maxTiles).withBatchSize(batchSize).withWeights(weights);
            Dataset<Row> answers = Navil4jSpark.generate(files, options, metrics).drop("content");
            long t0 = System.nanoTime();
            Thread progress = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        Thread.sleep(2000);
                        double s = (System.nanoTime() - t0) / 1e9;
                        err.printf(Locale.ROOT, "navil4j-spark-batch: %d / %d rows (tasks finished), %.2f rows/s%n",
                                metrics.rows(), total, metrics.rows() / s);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            answers.write().mode(SaveMode.ErrorIfExists).parquet(output);
            progress.interrupt();
            double s = (System.nanoTime() - t0) / 1e9;
            double load = metrics.modelLoadMillis() / 1000.0, warm = metrics.warmRowsPerSecond();
            err.printf(Locale.ROOT, "navil4j-spark-batch: %d rows (%d with an error) in %.1f s = %.2f rows/s on %d cores; "
                            + "model load %.1f s; %.2f rows/s while answering; %d prompt + %d generated tokens; Parquet in %s%n",
                    metrics.rows(), metrics.errors(), s, metrics.rows() / s, cores, load, warm, metrics.promptTokens(),
                    metrics.completionTokens(), output);
            // one line with fixed keys for scripts (spark/bench-spark.sh)
            err.printf(Locale.ROOT, "navil4j-spark-batch: summary cores=%d partitions=%d rows=%d errors=%d seconds=%.3f "
                            + "rows_per_s=%.3f load_s=%.3f warm_rows_per_s=%.3f generated_tokens=%d%n",
                    cores, partitions, metrics.rows(), metrics.errors(), s, metrics.rows() / s, load, warm,
                    metrics.completionTokens());
            return 0;
        } finally {
            spark.stop();
        }
    }

    private static void usage(PrintStream err) {
        err.println("usage: navil4j-spark-batch --model DIR|org/name --input DIR --output DIR [--prompt TEXT] [--cores N]"
                + " [--max-new-tokens N] [--max-tiles N] [--batch-size N] [--weights auto|f32|bf16|q8|q4] [--partitions-per-core K]");
    }
}
