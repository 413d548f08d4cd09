package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.navil4j.generate.json.SchemaValidator;
import dev.navil4j.generate.json.StructuredSchemas;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.VisionLanguageModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code response_format} through the server on the InternVL3 fixture, a random-weight model: its logits are
 * noise, so whatever it writes under the constraint must still parse and validate (networknt's validator,
 * an independent implementation) — sampled, n > 1, streamed, and on /v1/completions.
 */
class StructuredOutputServerTest {
    static VisionLanguageModel model;
    static OpenAiServer server;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        model = ModelRegistry.load(Path.of("fixtures/internvl3-tiny/model"), LoadOptions.defaults());
        server = OpenAiServer.start(model, ServerOptions.defaults("internvl3-tiny"), "127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (model != null) model.close();
    }

    static HttpResponse<String> post(String path, JsonNode body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static ObjectNode chat(JsonNode responseFormat) {
        ObjectNode b = ServerTest.JSON.createObjectNode();
        b.putArray("messages").addObject().put("role", "user").put("content", "Answer in JSON.");
        b.set("response_format", responseFormat);
        b.put("max_tokens", 300);
        return b;
    }

    static ObjectNode schemaFormat(String name, JsonNode schema) {
        ObjectNode rf = ServerTest.JSON.createObjectNode().put("type", "json_schema");
        rf.putObject("json_schema").put("name", name).put("strict", true).set("schema", schema);
        return rf;
    }

    @Test
    void everyChoiceParsesAndValidates() throws Exception {
        for (Map.Entry<String, JsonNode> e : StructuredSchemas.all().entrySet()) {
            ObjectNode body = chat(schemaFormat(e.getKey(), e.getValue()));
            body.put("n", 3).put("temperature", 1.0).put("seed", 5);
            HttpResponse<String> r = post("/v1/chat/completions", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            for (JsonNode c : ServerTest.JSON.readTree(r.body()).path("choices")) {
                String text = c.path("message").path("content").asText();
                assertThat(c.path("finish_reason").asText()).as(text).isEqualTo("stop");
                if (c.path("index").asInt() == 0) System.out.println(e.getKey() + " -> " + text);
                assertThat(SchemaValidator.errors(e.getValue(), SchemaValidator.parse(text))).as(e.getKey() + ": " + text).isEmpty();
            }
        }
        // json_object, greedy and streamed
        ObjectNode body = chat(ServerTest.JSON.createObjectNode().put("type", "json_object"));
        HttpResponse<String> r = post("/v1/chat/completions", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String greedy = ServerTest.JSON.readTree(r.body()).path("choices").get(0).path("message").path("content").asText();
        assertThat(SchemaValidator.parse(greedy).isObject()).as(greedy).isTrue();
        body.put("stream", true);
        StringBuilder streamed = new StringBuilder();
        for (String ev : ServerTest.events(post("/v1/chat/completions", body).body())) {
            if (ev.equals("[DONE]")) continue;
            streamed.append(ServerTest.JSON.readTree(ev).path("choices").get(0).path("delta").path("content").asText(""));
        }
        assertThat(streamed.toString().strip()).isEqualTo(greedy);
        // /v1/completions shares the parsing
        ObjectNode completion = ServerTest.JSON.createObjectNode().put("prompt", "JSON:").put("max_tokens", 200);
        completion.set("response_format", schemaFormat("math", StructuredSchemas.all().get("pydantic-math")));
        HttpResponse<String> rc = post("/v1/completions", completion);
        assertThat(rc.statusCode()).as(rc.body()).isEqualTo(200);
        String text = ServerTest.JSON.readTree(rc.body()).path("choices").get(0).path("text").asText();
        assertThat(SchemaValidator.errors(StructuredSchemas.all().get("pydantic-math"), SchemaValidator.parse(text))).as(text).isEmpty();
    }

    /** A max_tokens that only just fits the shortest valid value: the length guard still closes the JSON. */
    @Test
    void tightTokenBudgetStillCloses() throws Exception {
        JsonNode schema = StructuredSchemas.all().get("pydantic-math");
        // the shortest value is {"steps":[],"final_answer":""} (30 bytes); + 1 stop token, single-byte tokens at worst
        ObjectNode body = chat(schemaFormat("math", schema));
        body.put("max_tokens", 31).put("temperature", 1.0).put("seed", 3).put("n", 4);
        HttpResponse<String> r = post("/v1/chat/completions", body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        for (JsonNode c : ServerTest.JSON.readTree(r.body()).path("choices")) {
            String text = c.path("message").path("content").asText();
            assertThat(SchemaValidator.errors(schema, SchemaValidator.parse(text))).as(text).isEmpty();
        }
    }

    @Test
    void refusalsNameTheirReason() throws Exception {
        ObjectNode pattern = (ObjectNode) SchemaValidator.parse("{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"pattern\":\"^a\"}},"
                + "\"required\":[\"id\"],\"additionalProperties\":false}");
        HttpResponse<String> r = post("/v1/chat/completions", chat(schemaFormat("p", pattern)));
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode err = ServerTest.JSON.readTree(r.body()).path("error");
        assertThat(err.path("param").asText()).isEqualTo("response_format.json_schema.schema.properties.id.pattern");
        assertThat(err.path("message").asText()).contains("'pattern'");
        // without strict the keyword is an annotation
        ObjectNode loose = schemaFormat("p", pattern);
        ((ObjectNode) loose.get("json_schema")).put("strict", false);
        assertThat(post("/v1/chat/completions", chat(loose)).statusCode()).isEqualTo(200);
        for (String bad : new String[]{"{\"type\":\"xml\"}", "{\"type\":\"json_schema\"}", "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{}}}",
                "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"a b\",\"schema\":{}}}", "\"json\""}) {
            HttpResponse<String> e = post("/v1/chat/completions", chat(SchemaValidator.parse(bad)));
            assertThat(e.statusCode()).as(bad).isEqualTo(400);
            assertThat(ServerTest.JSON.readTree(e.body()).path("error").path("param").asText()).as(bad).startsWith("response_format");
        }
        // tools: the fixture's template (InternVL's conversation template) defines none
        ObjectNode tools = chat(null);
        tools.remove("response_format");
        tools.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "get_weather");
        HttpResponse<String> t = post("/v1/chat/completions", tools);
        assertThat(t.statusCode()).isEqualTo(400);
        assertThat(ServerTest.JSON.readTree(t.body()).path("error").path("param").asText()).isEqualTo("tools");
        assertThat(ServerTest.JSON.readTree(t.body()).path("error").path("message").asText()).contains("defines no tool calling");
    }
}
