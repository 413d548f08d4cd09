package dev.navil4j.spark;

import dev.navil4j.ChatModel;
import dev.navil4j.Request;
import dev.navil4j.RequestOptions;
import dev.navil4j.Response;
import dev.navil4j.chat.Conversation;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;

/**
 * Answers the rows of one partition, {@link BatchOptions#batchSize()} at a time through the engine's batched
 * decode, and yields each input row followed by the answer columns. A row whose media cannot be read or whose
 * prompt does not fit gets its error column set instead of failing the task. The output depends only on each row
 * (greedy, or sampling seeded from the row's content), so a retried attempt writes exactly what the first would have.
 */
final class PartitionAnswerer implements MapPartitionsFunction<Row, Row> {
    private final BatchOptions options;
    private final BatchMetrics metrics;
    private final int imageIndex, pathIndex, questionIndex;

    PartitionAnswerer(BatchOptions options, BatchMetrics metrics, int imageIndex, int pathIndex, int questionIndex) {
        this.options = options;
        this.metrics = metrics;
        this.imageIndex = imageIndex;
        this.pathIndex = pathIndex;
        this.questionIndex = questionIndex;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        return new Iterator<>() {
            private final List<Row> ready = new ArrayList<>();
            private int next, done;
            private ChatModel model; // loaded on the first non-empty chunk: an empty partition loads nothing
            private long startMillis; // when this task had its model (after any load it did or waited for)
            private boolean ended;

            @Override
            public boolean hasNext() {
                if (next < ready.size()) return true;
                ready.clear();
                next = 0;
                List<Row> chunk = new ArrayList<>(options.batchSize());
                while (chunk.size() < options.batchSize() && input.hasNext()) chunk.add(input.next());
                if (chunk.isEmpty()) {
                    if (model != null && !ended) metrics.span(startMillis, System.currentTimeMillis(), done);
                    ended = true;
                    return false;
                }
                if (model == null) {
                    model = ExecutorModels.get(options, threadsPerTask(), metrics);
                    startMillis = System.currentTimeMillis();
                }
                ready.addAll(answer(model, chunk));
                done += chunk.size();
                FailureInjection.check(done);
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new NoSuchElementException();
                return ready.get(next++);
            }
        };
    }

    private int threadsPerTask() {
        if (options.threadsPerTask() > 0) return options.threadsPerTask();
        TaskContext tc = TaskContext.get();
        return tc != null ? Math.max(1, tc.cpus()) : Runtime.getRuntime().availableProcessors();
    }

    /** One chunk: requests for the rows that have readable media, one batched decode, error rows for the rest. */
    private List<Row> answer(ChatModel model, List<Row> chunk) {
        Outcome[] outcomes = new Outcome[chunk.size()];
        List<Request> requests = new ArrayList<>();
        List<Integer> requestRows = new ArrayList<>();
        for (int i = 0; i < chunk.size(); i++) {
            try {
                requests.add(request(chunk.get(i)));
                requestRows.add(i);
            } catch (RuntimeException e) {
                outcomes[i] = Outcome.error(e);
            }
        }
        List<Response> responses = null;
        if (!requests.isEmpty()) {
            try {
                responses = model.batch(options.systemMessage(), requests);
            } catch (RuntimeException batchFailed) {
                // one row's media failed to decode or its prompt is too long (found only while preparing): answer the
                // rows one by one so that only that row carries the error. Each row's answer is the same either way
                // (batch() answers every row as a fresh session would).
                responses = null;
            }
        }
        for (int k = 0; k < requests.size(); k++) {
            int i = requestRows.get(k);
            if (responses != null) {
                outcomes[i] = Outcome.of(responses.get(k));
            } else {
                try {
                    outcomes[i] = Outcome.of(model.batch(options.systemMessage(), List.of(requests.get(k))).getFirst());
                } catch (RuntimeException e) {
                    outcomes[i] = Outcome.error(e);
                }
            }
        }
        List<Row> out = new ArrayList<>(chunk.size());
        for (int i = 0; i < chunk.size(); i++) {
            Outcome o = outcomes[i];
            if (o.error == null) metrics.answered(o.promptTokens, o.completionTokens);
            else metrics.failed();
            out.add(withAnswer(chunk.get(i), o));
        }
        return out;
    }

    private Request request(Row row) {
        String question = questionIndex >= 0 ? row.getString(questionIndex) : options.prompt();
        if (question == null) throw new IllegalArgumentException("the question column is null");
        String name = pathIndex >= 0 ? row.getString(pathIndex) : null;
        List<Conversation.Media> media = new ArrayList<>(1);
        Object cell = null;
        if (imageIndex >= 0) {
            cell = row.get(imageIndex);
            media.add(RowMedia.of(cell, name, options.videoFrames()));
        }
        RequestOptions ro = RequestOptions.defaults();
        if (options.maxNewTokens() > 0) ro = ro.withMaxNewTokens(options.maxNewTokens());
        if (options.maxTiles() > 0) ro = ro.withMaxTiles(options.maxTiles());
        if (options.temperature() > 0)
            ro = ro.withTemperature(options.temperature()).withSeed(rowSeed(options.seed(), question, name, cell));
        return new Request(question, media, ro);
    }

    /**
     * The sampling seed of a row: the base seed mixed with a 64-bit FNV-1a hash of the question and the row's media
     * identity (its path when there is one, else its bytes), so it does not depend on partitioning or attempt.
     */
    static long rowSeed(long base, String question, String name, Object cell) {
        long h = 0xcbf29ce484222325L;
        h = fnv(h, question.getBytes(StandardCharsets.UTF_8));
        h = fnv(h, new byte[] {0});
        if (name != null) h = fnv(h, name.getBytes(StandardCharsets.UTF_8));
        else if (cell instanceof byte[] b) h = fnv(h, b);
        else if (cell instanceof String s) h = fnv(h, s.getBytes(StandardCharsets.UTF_8));
        else if (cell instanceof Row r && r.getAs("origin") != null) h = fnv(h, r.<String>getAs("origin").getBytes(StandardCharsets.UTF_8));
        return base ^ h;
    }

    private static long fnv(long h, byte[] bytes) {
        for (byte b : bytes) { h ^= b & 0xFF; h *= 0x100000001b3L; }
        return h;
    }

    private static Row withAnswer(Row in, Outcome o) {
        Object[] v = new Object[in.length() + Navil4jSpark.ANSWER_COLUMNS];
        for (int i = 0; i < in.length(); i++) v[i] = in.get(i);
        int j = in.length();
        v[j] = o.answer;
        v[j + 1] = o.finish;
        v[j + 2] = o.error == null ? o.promptTokens : null;
        v[j + 3] = o.error == null ? o.completionTokens : null;
        v[j + 4] = o.error;
        return RowFactory.create(v);
    }

    /** A row's answer columns. */
    private record Outcome(String answer, String finish, int promptTokens, int completionTokens, String error) {
        static Outcome of(Response r) {
            return new Outcome(r.text(), r.finish().name().toLowerCase(Locale.ROOT), r.promptTokens(), r.generatedTokens(), null);
        }

        static Outcome error(RuntimeException e) {
            String m = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            return new Outcome(null, null, 0, 0, m);
        }
    }
}
