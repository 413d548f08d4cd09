package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** logprobs/top_logprobs in OpenAI's response shape (plain and streamed), n > 1, and the penalties and min_p. */
class LogprobsServerTest {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = ServerTest.JSON;
    private final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    private OpenAiServer server;

    private FakeModel model;

    private void start() { model = new FakeModel(512, 0); server = OpenAiServer.start(model, ServerOptions.defaults("fake-model"), "127.0.0.1", 0); }

    @org.junit.jupiter.api.AfterEach
    void stop() { if (server != null) server.close(); }

    private HttpResponse<String> post(String body) throws Exception {
        return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String user(String text) { return ServerTest.user(text); }

    private static List<String> events(String body) { return ServerTest.events(body); }

    /** FakeModel's logits for a step whose wanted id is {@code want}, log-softmaxed here independently. */
    private static double expectedLogprob(int want, int id) {
        double[] l = new double[FakeModel.VOCAB];
        for (int i = 0; i < l.length; i++) l[i] = (i * 7919 % 13) * 0.05f;
        l[want] = 8f;
        double sum = 0;
        for (double v : l) sum += Math.exp(v);
        return l[id] - Math.log(sum);
    }

    @Test
    void logprobsPlainAndStreamed() throws Exception {
        start();
        HttpResponse<String> r = post(user("hi") + ",\"logprobs\":true,\"top_logprobs\":3}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode lp = JSON.readTree(r.body()).path("choices").get(0).path("logprobs");
        assertThat(lp.path("refusal").isNull()).isTrue();
        JsonNode content = lp.path("content");
        String answer = "echo: hi";
        assertThat(content.size()).isEqualTo(answer.length()); // the end-of-text id is not reported
        for (int t = 0; t < answer.length(); t++) {
            JsonNode e = content.get(t);
            int id = answer.charAt(t);
            assertThat(e.path("token").asText()).isEqualTo(String.valueOf(answer.charAt(t)));
            assertThat(e.path("logprob").asDouble()).isCloseTo(expectedLogprob(id, id), within(1e-5));
            assertThat(e.path("bytes").get(0).asInt()).isEqualTo(id);
            JsonNode top = e.path("top_logprobs");
            assertThat(top.size()).isEqualTo(3);
            assertThat(top.get(0).path("token").asText()).isEqualTo(e.path("token").asText());
            assertThat(top.get(0).path("logprob").asDouble()).isEqualTo(e.path("logprob").asDouble());
            assertThat(top.get(1).path("logprob").asDouble()).isLessThanOrEqualTo(top.get(0).path("logprob").asDouble());
        }
        // streamed: the chunks' logprobs together are the plain answer's
        List<JsonNode> streamed = new ArrayList<>();
        for (String ev : events(post(user("hi") + ",\"logprobs\":true,\"top_logprobs\":3,\"stream\":true}").body())) {
            if (ev.equals("[DONE]")) continue;
            JsonNode c = JSON.readTree(ev).path("choices").get(0).path("logprobs");
            if (c.isObject()) c.path("content").forEach(streamed::add);
        }
        assertThat(streamed).containsExactlyElementsOf(content::elements);
        // logprobs without top_logprobs: the chosen token only
        JsonNode plain = JSON.readTree(post(user("hi") + ",\"logprobs\":true}").body()).path("choices").get(0).path("logprobs").path("content");
        assertThat(plain.get(0).path("top_logprobs")).isEmpty();
        // not asked: null, as before
        assertThat(JSON.readTree(post(user("hi") + "}").body()).path("choices").get(0).path("logprobs").isNull()).isTrue();
        assertThat(new String(new byte[]{(byte) content.get(0).path("bytes").get(0).asInt()}, StandardCharsets.UTF_8)).isEqualTo("e");
    }

    @Test
    void penaltiesAndMinPAreHonouredAndChecked() throws Exception {
        start();
        for (String f : List.of(",\"presence_penalty\":0.5", ",\"frequency_penalty\":-1", ",\"min_p\":0.1,\"temperature\":1,\"seed\":1"))
            assertThat(JSON.readTree(post(user("hi") + f + "}").body()).path("choices").get(0).path("message").path("content").asText())
                    .as(f).isEqualTo("echo: hi");
        // a frequency penalty above the fake model's margin (8 - 0.6) makes a repeated byte lose: "aaaa" cannot be echoed
        String rep = JSON.readTree(post(user("aaaa") + ",\"frequency_penalty\":2,\"presence_penalty\":2}").body())
                .path("choices").get(0).path("message").path("content").asText();
        assertThat(rep).isNotEqualTo("echo: aaaa");
        for (String[] bad : new String[][]{{"presence_penalty", "3"}, {"frequency_penalty", "-2.5"}, {"min_p", "1.5"},
                {"top_logprobs", "21"}, {"top_logprobs", "2"}, {"logprobs", "1"}}) {
            HttpResponse<String> r = post(user("hi") + ",\"" + bad[0] + "\":" + bad[1] + "}");
            assertThat(r.statusCode()).as(bad[0] + "=" + bad[1]).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).path("error").path("param").asText()).isEqualTo(bad[0]);
        }
    }

    @Test
    void nChoicesSharePrefillAndCountThePromptOnce() throws Exception {
        start();
        JsonNode one = JSON.readTree(post(user("hello there") + "}").body());
        int rowsBefore = 0;
        synchronized (model.steps) { for (int[] st : model.steps) rowsBefore += st[0]; }
        HttpResponse<String> r = post(user("hello there") + ",\"n\":3,\"temperature\":0.7,\"seed\":5,\"logprobs\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode o = JSON.readTree(r.body());
        JsonNode choices = o.path("choices");
        assertThat(choices.size()).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            assertThat(choices.get(i).path("index").asInt()).isEqualTo(i);
            // the fake model's distribution is peaked: every seed spells the answer
            assertThat(choices.get(i).path("message").path("content").asText()).isEqualTo("echo: hello there");
            assertThat(choices.get(i).path("logprobs").path("content").size()).isEqualTo("echo: hello there".length());
        }
        int promptTokens = one.path("usage").path("prompt_tokens").asInt();
        assertThat(o.path("usage").path("prompt_tokens").asInt()).isEqualTo(promptTokens);
        assertThat(o.path("usage").path("completion_tokens").asInt()).isEqualTo(3 * one.path("usage").path("completion_tokens").asInt());
        // prefilled once: the two siblings only recompute the last prompt position (the first request's KV may be
        // reused from the prefix cache, so count at most the whole prompt for the leader)
        int rowsAfter = 0;
        synchronized (model.steps) { for (int[] st : model.steps) rowsAfter += st[0]; }
        assertThat(rowsAfter - rowsBefore).isLessThanOrEqualTo(promptTokens + 2);
        // streamed: each choice's chunks carry its index and spell its answer; usage once at the end
        StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
        int finishes = 0;
        JsonNode usage = null;
        for (String ev : events(post(user("hello there") + ",\"n\":2,\"stream\":true,\"stream_options\":{\"include_usage\":true}}").body())) {
            if (ev.equals("[DONE]")) continue;
            JsonNode c = JSON.readTree(ev);
            if (c.path("usage").isObject()) { usage = c.path("usage"); continue; }
            JsonNode ch = c.path("choices").get(0);
            text[ch.path("index").asInt()].append(ch.path("delta").path("content").asText(""));
            if (!ch.path("finish_reason").isNull()) finishes++;
        }
        assertThat(text[0].toString()).isEqualTo("echo: hello there");
        assertThat(text[1].toString()).isEqualTo("echo: hello there");
        assertThat(finishes).isEqualTo(2);
        assertThat(usage.path("prompt_tokens").asInt()).isEqualTo(promptTokens);
        for (String bad : List.of("0", "17", "1.5", "\"2\""))
            assertThat(post(user("hi") + ",\"n\":" + bad + "}").statusCode()).as("n=" + bad).isEqualTo(400);
        // the server is idle again: every choice released the job's one slot
        long end = System.currentTimeMillis() + 5000;
        while (server.scheduler().inFlight() > 0 && System.currentTimeMillis() < end) Thread.sleep(10);
        assertThat(server.scheduler().inFlight()).isZero();
    }
}
