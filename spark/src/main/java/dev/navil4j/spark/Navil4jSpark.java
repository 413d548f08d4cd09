package dev.navil4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;

/**
 * Batch inference over a Spark DataFrame: every row's image (or video) and question are answered by a navil4j
 * model loaded once per executor JVM.
 * <pre>{@code
 * Dataset<Row> photos = spark.read().format("binaryFile").load("hdfs:///archive/photos");
 * Dataset<Row> answers = Navil4jSpark.generate(photos,
 *         BatchOptions.of("OpenGVLab/InternVL3-1B").withImageColumn("content").withPrompt("Describe the image."));
 * answers.drop("content").write().parquet("hdfs:///archive/captions");
 * }</pre>
 * The result has the input's columns followed by {@value #ANSWER} (string), {@value #FINISH} ("stop" or "length"),
 * {@value #PROMPT_TOKENS} and {@value #COMPLETION_TOKENS} (int) and {@value #ERROR} (string: null when the row was
 * answered; otherwise why not, e.g. an image that does not decode, and then the answer columns are null).
 * It is lazy like any transformation: the work runs when an action (a write, a count) runs it. Write it with
 * Spark's file writers (Parquet, JSON): their commit protocol keeps only the output of each task's successful
 * attempt, and since each row's answer is deterministic, retries neither lose nor duplicate rows.
 */
public final class Navil4jSpark {
    public static final String ANSWER = "answer", FINISH = "finish_reason", PROMPT_TOKENS = "prompt_tokens",
            COMPLETION_TOKENS = "completion_tokens", ERROR = "error";
    static final int ANSWER_COLUMNS = 5;

    private Navil4jSpark() {}

    /** The rows answered; counters are registered with the input's Spark context and not returned. */
    public static Dataset<Row> generate(Dataset<Row> in, BatchOptions options) {
        return generate(in, options, BatchMetrics.register(in.sparkSession().sparkContext()));
    }

    /** The rows answered, counting rows, error rows and tokens into {@code metrics} (read them after the action). */
    public static Dataset<Row> generate(Dataset<Row> in, BatchOptions options, BatchMetrics metrics) {
        if (in == null) throw new IllegalArgumentException("input dataset is null");
        if (options == null) throw new IllegalArgumentException("options are null");
        StructType schema = in.schema();
        int image = options.imageColumn() == null ? -1 : column(schema, options.imageColumn(), "image");
        if (image >= 0) {
            var t = schema.fields()[image].dataType();
            if (!(t instanceof StringType || t instanceof BinaryType || t instanceof StructType))
                throw new IllegalArgumentException("image column '" + options.imageColumn() + "' has type " + t.simpleString()
                        + "; expected a path string, binary content or Spark's image struct");
        }
        String pathName = options.pathColumn();
        if (pathName == null && Arrays.asList(schema.fieldNames()).contains("path")
                && schema.apply("path").dataType() instanceof StringType) pathName = "path";
        int path = pathName == null ? -1 : column(schema, pathName, "path");
        int question = options.questionColumn() == null ? -1 : column(schema, options.questionColumn(), "question");
        for (String c : new String[] {ANSWER, FINISH, PROMPT_TOKENS, COMPLETION_TOKENS, ERROR})
            if (Arrays.asList(schema.fieldNames()).contains(c))
                throw new IllegalArgumentException("the input already has a column '" + c + "' (rename it first)");
        return in.mapPartitions(new PartitionAnswerer(options, metrics, image, path, question), Encoders.row(outputSchema(schema)));
    }

    /** The input's columns followed by the answer columns. */
    public static StructType outputSchema(StructType input) {
        return input
                .add(new StructField(ANSWER, DataTypes.StringType, true, org.apache.spark.sql.types.Metadata.empty()))
                .add(new StructField(FINISH, DataTypes.StringType, true, org.apache.spark.sql.types.Metadata.empty()))
                .add(new StructField(PROMPT_TOKENS, DataTypes.IntegerType, true, org.apache.spark.sql.types.Metadata.empty()))
                .add(new StructField(COMPLETION_TOKENS, DataTypes.IntegerType, true, org.apache.spark.sql.types.Metadata.empty()))
                .add(new StructField(ERROR, DataTypes.StringType, true, org.apache.spark.sql.types.Metadata.empty()));
    }

    private static int column(StructType schema, String name, String role) {
        int i = Arrays.asList(schema.fieldNames()).indexOf(name);
        if (i < 0) throw new IllegalArgumentException("the input has no " + role + " column '" + name + "' (columns: "
                + String.join(", ", schema.fieldNames()) + ")");
        return i;
    }
}
