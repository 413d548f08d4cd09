package dev.navil4j.spark;

import java.io.Serializable;

/**
 * What a batch job asks of every row; serialized with the job to every executor. Immutable: start from
 * {@link #of(String)} and change fields with the {@code with…} methods.
 *
 * @param model          the checkpoint: a local directory every executor can read, a Hadoop path
 *                       ({@code hdfs://…}, {@code s3a://…}, {@code file:/…}) copied once per host to local disk, or a
 *                       Hugging Face repo id {@code org/name[@revision]} resolved through the HF cache
 * @param imageColumn    the media column (null = text-only rows): a path or URI string, a binary column (Spark's
 *                       {@code binaryFile} source gives {@code content}) or a struct of Spark's {@code image} source;
 *                       videos are recognised by extension or container signature
 * @param pathColumn     a column naming each row's file (error messages, video detection by extension, row seeds);
 *                       null = none. {@link Navil4jSpark#generate} fills it with {@code "path"} when the input has one
 * @param questionColumn the per-row question (null = every row gets {@link #prompt})
 * @param prompt         the fixed question when {@code questionColumn} is null
 * @param systemMessage  the system message (null = the family's default)
 * @param maxNewTokens   the most tokens per answer (0 = the model's generation default)
 * @param temperature    0 = greedy; above 0 samples with a per-row seed derived from {@link #seed} and the row's
 *                       content, so a retried task reproduces its rows exactly
 * @param seed           base of the per-row sampling seeds
 * @param maxTiles       the most tiles per image (0 = the family's default)
 * @param videoFrames    frames sampled from each video row
 * @param batchSize      rows of one partition decoded together (the engine's batched decode)
 * @param threadsPerTask compute threads per running task (0 = the task's {@code spark.task.cpus}), so the tasks of
 *                       one executor together use its cores and do not oversubscribe them
 * @param weights        LLM weight precision at load ("auto", "f32", "bf16", "q8", "q4")
 */
public record BatchOptions(String model, String imageColumn, String pathColumn, String questionColumn, String prompt,
                           String systemMessage, int maxNewTokens, float temperature, long seed, int maxTiles,
                           int videoFrames, int batchSize, int threadsPerTask, String weights) implements Serializable {
    public BatchOptions {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("model is not set");
        if (questionColumn == null && prompt == null)
            throw new IllegalArgumentException("set a fixed prompt or a question column");
        if (maxNewTokens < 0) throw new IllegalArgumentException("max new tokens must be >= 0, got " + maxNewTokens);
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (maxTiles < 0) throw new IllegalArgumentException("max tiles must be >= 0, got " + maxTiles);
        if (videoFrames < 1) throw new IllegalArgumentException("video frames must be >= 1, got " + videoFrames);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        if (threadsPerTask < 0) throw new IllegalArgumentException("threads per task must be >= 0, got " + threadsPerTask);
        if (weights == null) weights = "auto";
    }

    /** Greedy answers to "Describe the image." about column {@code image}, 8 rows per batch, 8 video frames. */
    public static BatchOptions of(String model) {
        return new BatchOptions(model, "image", null, null, "Describe the image.", null, 0, 0f, 0L, 0, 8, 8, 0, "auto");
    }

    public BatchOptions withImageColumn(String c) { return new BatchOptions(model, c, pathColumn, questionColumn, prompt, systemMessage, maxNewTokens, temperature, seed, maxTiles, videoFrames, batchSize, threadsPerTask, weights); }

    public BatchOptions withPathColumn(String c) { return new BatchOptions(model, imageColumn, c, questionColumn, prompt, systemMessage, maxNewTokens, temperature, seed, maxTiles, videoFrames, batchSize, threadsPerTask, weights); }

    public BatchOptions withQuestionColumn(String c) { return new BatchOptions(model, imageColumn, pathColumn, c, prompt, systemMessage, maxNewTokens, temperature, seed, maxTiles, videoFrames, batchSize, threadsPerTask, weights); }

    public BatchOptions withPrompt(String p) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, p, systemMessage, maxNewTokens, temperature, seed, maxTiles, videoFrames, batchSize, threadsPerTask, weights); }

    public BatchOptions withSystemMessage(String s) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, prompt, s, maxNewTokens, temperature, seed, maxTiles, videoFrames, batchSize, threadsPerTask, weights); }

    public BatchOptions withMaxNewTokens(int n) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, prompt, systemMessage, n, temperature, seed, maxTiles, videoFrames, batchSize, threadsPerTask, weights); }

    /** Sampling at this temperature with per-row seeds derived from {@code baseSeed} (0 temperature = greedy). */
    public BatchOptions withSampling(float t, long baseSeed) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, prompt, systemMessage, maxNewTokens, t, baseSeed, maxTiles, videoFrames, batchSize, threadsPerTask, weights); }

    public BatchOptions withMaxTiles(int n) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, prompt, systemMessage, maxNewTokens, temperature, seed, n, videoFrames, batchSize, threadsPerTask, weights); }

    public BatchOptions withVideoFrames(int n) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, prompt, systemMessage, maxNewTokens, temperature, seed, maxTiles, n, batchSize, threadsPerTask, weights); }

    public BatchOptions withBatchSize(int n) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, prompt, systemMessage, maxNewTokens, temperature, seed, maxTiles, videoFrames, n, threadsPerTask, weights); }

    public BatchOptions withThreadsPerTask(int n) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, prompt, systemMessage, maxNewTokens, temperature, seed, maxTiles, videoFrames, batchSize, n, weights); }

    public BatchOptions withWeights(String w) { return new BatchOptions(model, imageColumn, pathColumn, questionColumn, prompt, systemMessage, maxNewTokens, temperature, seed, maxTiles, videoFrames, batchSize, threadsPerTask, w); }
}
