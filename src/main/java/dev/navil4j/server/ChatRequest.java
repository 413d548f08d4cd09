package dev.navil4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.chat.Conversation;
import dev.navil4j.generate.json.JsonGrammar;
import dev.navil4j.generate.json.JsonSchemaCompiler;
import dev.navil4j.generate.json.JsonSchemaException;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A validated {@code POST /v1/chat/completions} body. {@link #parse} checks every field and answers each
 * mistake with a 400 that names the field. Honour or refuse: a field navil4j does not implement is a 400
 * naming it ({@code unsupported_parameter}), unless it is given its no-op value (e.g. {@code n: 1},
 * {@code presence_penalty: 0}, {@code response_format: {"type":"text"}}), so no client is answered as if
 * it had been honoured. The lists are in docs/SERVER.md.
 *
 * @param maxTokens   requested completion length, or -1 for the server default
 * @param temperature null when absent (the model's own default decoding applies)
 * @param seed        null when absent
 * @param rawPrompt   {@code /v1/completions}' prompt (conversation null), else null
 * @param n           choices to generate (OpenAI's {@code n}, 1..{@value #MAX_N})
 * @param topLogprobs null unless {@code logprobs: true}; then the alternatives per token (0..20)
 * @param structuredOutput {@code response_format} json_object / json_schema: the grammar the output must follow
 *                         (constrained decoding); null for free text
 */
public record ChatRequest(String model, Conversation conversation, int imageCount, int maxTokens, Double temperature,
                          Double topP, Long seed, List<String> stop, boolean stream, boolean includeUsage,
                          Integer topK, Double repetitionPenalty, Double presencePenalty, Double frequencyPenalty,
                          Double minP, Integer topLogprobs, int n, String rawPrompt, JsonGrammar structuredOutput) {
    /** The most choices one request may ask for ({@code n}). */
    public static final int MAX_N = 16;


    /** Resolves an image URL to a decoded image (limits enforced); throws ApiException on bad input. */
    public interface ImageResolver {
        BufferedImage resolve(String url, String param);

        /** A video_url (extension) as validated container bytes the family decodes from memory. */
        default byte[] video(String url, String param) {
            throw ApiException.invalid(param, "video input is not enabled on this server");
        }
    }

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    /** Fields navil4j implements (the last four are extensions: vLLM's top_k, min_p and repetition_penalty, InternVL's max tiles). */
    static final Set<String> IMPLEMENTED = Set.of("model", "messages", "max_tokens", "max_completion_tokens", "temperature",
            "top_p", "seed", "stop", "stream", "stream_options", "n", "logprobs", "top_logprobs", "presence_penalty",
            "frequency_penalty", "top_k", "min_p", "repetition_penalty", "max_tiles", "response_format");

    /** Fields that do not change the completion (identifiers for the provider's own bookkeeping): accepted. */
    static final Set<String> NO_EFFECT = Set.of("user", "safety_identifier", "prompt_cache_key", "metadata");

    /**
     * Parameters refused unless given their no-op value; anything outside these three sets is refused whatever its
     * value (tools, logit_bias, audio, prediction, reasoning_effort, min_p, best_of, …).
     */
    static final Set<String> ONLY_DEFAULT = Set.of("tools", "tool_choice", "parallel_tool_calls", "functions", "function_call", "modalities",
            "store", "service_tier", "logit_bias");

    /** Refuses every field that is neither implemented nor harmless at the value given. */
    private static void refuseUnsupported(JsonNode body) {
        for (var it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            JsonNode v = body.get(f);
            if (IMPLEMENTED.contains(f) || NO_EFFECT.contains(f) || v.isNull()) continue;
            if (ONLY_DEFAULT.contains(f) && isNoOp(f, v, body)) continue;
            throw new ApiException(400, "invalid_request_error", f, "unsupported_parameter", ONLY_DEFAULT.contains(f)
                    ? "'" + f + "' is not supported by this server with the value given (" + noOpHint(f) + ")"
                    : "unsupported parameter '" + f + "': this server does not implement it", 0);
        }
    }

    private static boolean isNoOp(String f, JsonNode v, JsonNode body) {
        JsonNode tools = body.get("tools");
        boolean noTools = tools == null || tools.isNull() || (tools.isArray() && tools.isEmpty());
        return switch (f) {
            case "tools", "functions" -> v.isArray() && v.isEmpty();
            case "tool_choice", "function_call" -> v.isTextual() && (v.asText().equals("none") || (v.asText().equals("auto") && noTools));
            case "parallel_tool_calls" -> v.isBoolean() && noTools;
            case "modalities" -> v.isArray() && v.size() == 1 && "text".equals(v.get(0).asText(null));
            case "store" -> v.isBoolean() && !v.asBoolean();
            case "service_tier" -> v.isTextual() && (v.asText().equals("auto") || v.asText().equals("default"));
            case "logit_bias" -> v.isObject() && v.isEmpty();
            default -> false;
        };
    }

    /**
     * Why tools are refused: tool calling follows the chat template, and the templates navil4j renders (InternVL's
     * conversation templates, NaViL's, VoRA's chat_template.json) have no tool section and no tool-call format.
     */
    static final String NO_TOOLS = "tool calling is not available: the chat template of the served model (InternVL, NaViL and VoRA "
            + "conversation templates) defines no tool calling";

    private static String noOpHint(String f) {
        return switch (f) {
            case "tools", "functions" -> NO_TOOLS + "; only an empty list";
            case "tool_choice", "function_call" -> NO_TOOLS + "; only \"none\"";
            case "parallel_tool_calls" -> "only without tools";
            case "modalities" -> "only [\"text\"]";
            case "store" -> "only false";
            case "service_tier" -> "only \"auto\" or \"default\"";
            case "logit_bias" -> "only an empty object";
            default -> "unsupported";
        };
    }

    /**
     * @param maxTilesCap the server's cap on tiles per image (0 = the family's default, no request may exceed it
     *                    otherwise); a request may ask for fewer with the extension field {@code max_tiles}
     */
    public static ChatRequest parse(JsonNode body, int maxImages, int maxTilesCap, ImageResolver images) {
        if (body == null || !body.isObject()) throw ApiException.invalid(null, "request body must be a JSON object");
        refuseUnsupported(body);
        String model = optString(body, "model");
        int maxTokens = -1;
        for (String f : new String[]{"max_completion_tokens", "max_tokens"}) {
            JsonNode m = body.get(f);
            if (m == null || m.isNull()) continue;
            if (!m.isIntegralNumber() || !m.canConvertToInt() || m.asInt() < 1)
                throw ApiException.invalid(f, f + " must be an integer >= 1");
            if (maxTokens < 0) maxTokens = m.asInt();
        }
        Double temperature = optNumber(body, "temperature", 0, 2, true);
        Double topP = optNumber(body, "top_p", 0, 1, false);
        Long seed = null;
        JsonNode s = body.get("seed");
        if (s != null && !s.isNull()) {
            if (!s.isIntegralNumber() || !s.canConvertToLong()) throw ApiException.invalid("seed", "seed must be an integer");
            seed = s.asLong();
        }
        List<String> stop = parseStop(body.get("stop"));
        boolean stream = optBoolean(body, "stream");
        boolean includeUsage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) throw ApiException.invalid("stream_options", "stream_options must be an object");
            if (!stream) throw ApiException.invalid("stream_options", "stream_options is only allowed when stream is true");
            for (var it = so.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("include_usage"))
                    throw new ApiException(400, "invalid_request_error", "stream_options." + f, "unsupported_parameter",
                            "unsupported parameter 'stream_options." + f + "': this server does not implement it", 0);
            }
            includeUsage = optBoolean(so, "include_usage");
        }
        Integer topK = null;
        JsonNode k = body.get("top_k");
        if (k != null && !k.isNull()) {
            // vLLM's extension: -1 (and 0, as in transformers) = no top-k filtering
            if (!k.isIntegralNumber() || !k.canConvertToInt() || k.asInt() < -1)
                throw ApiException.invalid("top_k", "top_k must be an integer >= -1 (-1 or 0: no top-k filtering)");
            topK = Math.max(0, k.asInt());
        }
        Double repetitionPenalty = optNumber(body, "repetition_penalty", 0, 2, false);
        Double presence = optNumber(body, "presence_penalty", -2, 2, true);
        Double frequency = optNumber(body, "frequency_penalty", -2, 2, true);
        Double minP = optNumber(body, "min_p", 0, 1, true);
        boolean logprobs = optBoolean(body, "logprobs");
        Integer topLogprobs = logprobs ? 0 : null;
        JsonNode tl = body.get("top_logprobs");
        if (tl != null && !tl.isNull()) {
            if (!tl.isIntegralNumber() || !tl.canConvertToInt() || tl.asInt() < 0 || tl.asInt() > 20)
                throw ApiException.invalid("top_logprobs", "top_logprobs must be an integer in 0..20");
            // OpenAI: top_logprobs requires logprobs true
            if (!logprobs && tl.asInt() > 0) throw ApiException.invalid("top_logprobs", "top_logprobs requires logprobs to be true");
            if (logprobs) topLogprobs = tl.asInt();
        }
        int tiles = maxTilesCap;
        JsonNode mt = body.get("max_tiles");
        if (mt != null && !mt.isNull()) {
            if (!mt.isIntegralNumber() || !mt.canConvertToInt() || mt.asInt() < 1)
                throw ApiException.invalid("max_tiles", "max_tiles must be an integer >= 1");
            if (maxTilesCap > 0 && mt.asInt() > maxTilesCap)
                throw ApiException.invalid("max_tiles", "max_tiles may be at most " + maxTilesCap + " on this server");
            tiles = mt.asInt();
        }
        int n = 1;
        JsonNode nn = body.get("n");
        if (nn != null && !nn.isNull()) {
            if (!nn.isIntegralNumber() || !nn.canConvertToInt() || nn.asInt() < 1 || nn.asInt() > MAX_N)
                throw ApiException.invalid("n", "n must be an integer in 1.." + MAX_N);
            n = nn.asInt();
        }
        JsonGrammar structured = parseResponseFormat(body.get("response_format"));
        Messages msgs = parseMessages(body.get("messages"), maxImages, images);
        Conversation conv = new Conversation(msgs.conversation.system(), msgs.conversation.turns(), new Conversation.Limits(tiles, 0));
        return new ChatRequest(model, conv, msgs.images, maxTokens, temperature, topP, seed, stop, stream, includeUsage,
                topK, repetitionPenalty, presence, frequency, minP, topLogprobs, n, null, structured);
    }

    /**
     * OpenAI's {@code response_format}: {@code text} (free), {@code json_object} (any JSON object) or
     * {@code json_schema} ({@code {"name", "schema", "strict", "description"}}: JSON the schema allows), the last
     * two enforced by constrained decoding. Under {@code strict: true} a schema keyword navil4j cannot enforce is
     * a 400 naming it; without strict it is ignored, as an annotation.
     */
    /**
     * Recently compiled schemas by their text: a client repeating a schema (every call of a structured-output
     * helper does) gets the same grammar, whose token masks are then already cached.
     */
    private static final java.util.Map<String, JsonGrammar> SCHEMAS = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override protected boolean removeEldestEntry(java.util.Map.Entry<String, JsonGrammar> e) { return size() > 16; }
    };

    static JsonGrammar parseResponseFormat(JsonNode rf) {
        if (rf == null || rf.isNull()) return null;
        String p = "response_format";
        if (!rf.isObject() || !rf.path("type").isTextual())
            throw ApiException.invalid(p, "response_format must be an object with a string 'type'");
        String type = rf.get("type").asText();
        for (var it = rf.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("type") && !(f.equals("json_schema") && type.equals("json_schema")))
                throw new ApiException(400, "invalid_request_error", p + "." + f, "unsupported_parameter",
                        "unsupported field '" + f + "' in response_format of type '" + type + "'", 0);
        }
        switch (type) {
            case "text" -> { return null; }
            case "json_object" -> { return JsonSchemaCompiler.anyObject(); }
            case "json_schema" -> {
                JsonNode js = rf.get("json_schema");
                if (js == null || !js.isObject()) throw ApiException.invalid(p + ".json_schema", "response_format.json_schema must be an object");
                for (var it = js.fieldNames(); it.hasNext(); ) {
                    String f = it.next();
                    if (!Set.of("name", "schema", "strict", "description").contains(f))
                        throw new ApiException(400, "invalid_request_error", p + ".json_schema." + f, "unsupported_parameter",
                                "unsupported field '" + f + "' in response_format.json_schema", 0);
                }
                JsonNode name = js.get("name");
                // OpenAI: a name of a-z, A-Z, 0-9, underscores and dashes, at most 64 characters
                if (name == null || !name.isTextual() || !name.asText().matches("[A-Za-z0-9_-]{1,64}"))
                    throw ApiException.invalid(p + ".json_schema.name", "response_format.json_schema.name must be 1 to 64 letters, digits, '_' or '-'");
                JsonNode strict = js.get("strict");
                if (strict != null && !strict.isNull() && !strict.isBoolean())
                    throw ApiException.invalid(p + ".json_schema.strict", "response_format.json_schema.strict must be a boolean");
                JsonNode schema = js.get("schema");
                if (schema == null || schema.isNull())
                    throw ApiException.invalid(p + ".json_schema.schema", "response_format.json_schema.schema is required");
                boolean isStrict = strict != null && strict.asBoolean(false);
                String key = isStrict + " " + schema;
                synchronized (SCHEMAS) {
                    JsonGrammar cached = SCHEMAS.get(key);
                    if (cached != null) return cached;
                }
                try {
                    JsonGrammar g = JsonSchemaCompiler.compile(schema, isStrict);
                    synchronized (SCHEMAS) { SCHEMAS.put(key, g); }
                    return g;
                } catch (JsonSchemaException e) {
                    throw new ApiException(400, "invalid_request_error", p + ".json_schema.schema" + e.where().replace('/', '.'),
                            "unsupported_schema", "response_format.json_schema.schema: " + e.getMessage(), 0);
                }
            }
            default -> throw ApiException.invalid(p + ".type", "response_format.type must be 'text', 'json_object' or 'json_schema', got '" + type + "'");
        }
    }

    /** Fields of {@code POST /v1/completions} navil4j implements (the sampling ones mean what they mean in chat). */
    static final Set<String> COMPLETION_FIELDS = Set.of("model", "prompt", "max_tokens", "temperature", "top_p", "seed", "stop",
            "stream", "stream_options", "n", "presence_penalty", "frequency_penalty", "top_k", "min_p", "repetition_penalty",
            "response_format");

    /**
     * A {@code POST /v1/completions} body: {@code prompt} a non-empty string (token arrays and prompt lists are
     * refused), {@code echo: false}, {@code best_of: 1}, {@code suffix: null} accepted; the legacy integer
     * {@code logprobs} is refused (use chat completions' logprobs). The sampling fields are checked by {@link #parse}
     * itself, on a copy of the body whose prompt stands in as a one-message conversation, so both routes share
     * every rule and message.
     */
    public static ChatRequest parseCompletion(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiException.invalid(null, "request body must be a JSON object");
        com.fasterxml.jackson.databind.node.ObjectNode copy = ((com.fasterxml.jackson.databind.node.ObjectNode) body).deepCopy();
        for (var it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            JsonNode v = body.get(f);
            boolean noOp = v.isNull() || NO_EFFECT.contains(f)
                    || (f.equals("echo") && v.isBoolean() && !v.asBoolean())
                    || (f.equals("best_of") && v.isIntegralNumber() && v.asLong() == 1);
            if (COMPLETION_FIELDS.contains(f)) continue;
            if (!noOp) throw new ApiException(400, "invalid_request_error", f, "unsupported_parameter",
                    "unsupported parameter '" + f + "' on /v1/completions: this server does not implement it"
                            + (f.equals("logprobs") ? " (chat completions support logprobs)" : ""), 0);
            copy.remove(f);
        }
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw ApiException.invalid("prompt", "prompt is required");
        if (!p.isTextual()) throw new ApiException(400, "invalid_request_error", "prompt", "unsupported_parameter",
                "prompt must be a string (token arrays and lists of prompts are not supported)", 0);
        if (p.asText().isEmpty()) throw ApiException.invalid("prompt", "prompt must not be empty");
        copy.remove("prompt");
        copy.putArray("messages").addObject().put("role", "user").put("content", "-");
        ChatRequest c = parse(copy, 0, 0, new ImageResolver() {
            public java.awt.image.BufferedImage resolve(String url, String param) { throw ApiException.invalid(param, "no images here"); }
        });
        return new ChatRequest(c.model, null, 0, c.maxTokens, c.temperature, c.topP, c.seed, c.stop, c.stream, c.includeUsage,
                c.topK, c.repetitionPenalty, c.presencePenalty, c.frequencyPenalty, c.minP, null, c.n, p.asText(), c.structuredOutput);
    }

    private record Messages(Conversation conversation, int images) {}

    /**
     * OpenAI messages → the reference chat() view: system/developer messages form the system prompt;
     * consecutive user messages form one question, answered by the following assistant message; the last
     * message must be the user's new question.
     */
    private static Messages parseMessages(JsonNode messages, int maxImages, ImageResolver resolver) {
        if (messages == null || messages.isNull()) throw ApiException.invalid("messages", "messages is required");
        if (!messages.isArray()) throw ApiException.invalid("messages", "messages must be an array");
        if (messages.isEmpty()) throw ApiException.invalid("messages", "messages must contain at least one message");
        StringBuilder system = null;
        List<Conversation.Turn> turns = new ArrayList<>();
        StringBuilder user = null;
        List<Conversation.Media> media = new ArrayList<>();
        int images = 0;
        for (int i = 0; i < messages.size(); i++) {
            String p = "messages[" + i + "]";
            JsonNode m = messages.get(i);
            if (!m.isObject()) throw ApiException.invalid(p, p + " must be an object");
            for (var it = m.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                JsonNode v = m.get(f);
                // an assistant message echoed back by a client carries refusal null and, without tools, no tool calls
                boolean noOp = v.isNull() || (f.equals("tool_calls") && v.isArray() && v.isEmpty());
                if (!f.equals("role") && !f.equals("content") && !noOp)
                    throw new ApiException(400, "invalid_request_error", p + "." + f, "unsupported_parameter",
                            "unsupported message field '" + f + "' in " + p + ": this server does not implement it", 0);
            }
            JsonNode r = m.get("role");
            if (r == null || !r.isTextual()) throw ApiException.invalid(p + ".role", p + ".role must be a string");
            String role = r.asText();
            if (!ROLES.contains(role))
                throw ApiException.invalid(p + ".role", "unsupported role '" + role + "' in " + p
                        + "; expected one of system, developer, user, assistant");
            JsonNode content = m.get("content");
            switch (role) {
                case "system", "developer" -> {
                    if (!turns.isEmpty() || user != null)
                        throw ApiException.invalid(p, "system messages must come before the conversation");
                    String t = textOnly(content, p);
                    system = system == null ? new StringBuilder(t) : system.append('\n').append(t);
                }
                case "user" -> {
                    StringBuilder text = new StringBuilder();
                    if (content == null || content.isNull())
                        throw ApiException.invalid(p + ".content", p + ".content is required");
                    if (content.isTextual()) text.append(content.asText());
                    else if (content.isArray()) {
                        if (content.isEmpty()) throw ApiException.invalid(p + ".content", p + ".content must not be empty");
                        for (int j = 0; j < content.size(); j++) {
                            String pp = p + ".content[" + j + "]";
                            JsonNode part = content.get(j);
                            String type = part.isObject() && part.path("type").isTextual() ? part.get("type").asText() : null;
                            if (type == null) throw ApiException.invalid(pp, pp + " must be an object with a string 'type'");
                            switch (type) {
                                case "text" -> {
                                    JsonNode t = part.get("text");
                                    if (t == null || !t.isTextual()) throw ApiException.invalid(pp + ".text", pp + ".text must be a string");
                                    if (!text.isEmpty()) text.append('\n');
                                    text.append(t.asText());
                                }
                                case "image_url" -> {
                                    JsonNode iu = part.get("image_url");
                                    JsonNode url = iu == null ? null : iu.isTextual() ? iu : iu.get("url");
                                    if (url == null || !url.isTextual() || url.asText().isEmpty())
                                        throw ApiException.invalid(pp + ".image_url", pp + ".image_url.url must be a non-empty string");
                                    if (++images > maxImages)
                                        throw ApiException.invalid(pp, "too_many_images", "at most " + maxImages + " images per request");
                                    media.add(new Conversation.Image(null, resolver.resolve(url.asText(), pp + ".image_url")));
                                }
                                case "video_url" -> {
                                    // extension (not in OpenAI's API): {"video_url":{"url":"data:video/mp4;base64,..","num_frames":8}}
                                    JsonNode vu = part.get("video_url");
                                    JsonNode url = vu == null ? null : vu.isTextual() ? vu : vu.get("url");
                                    if (url == null || !url.isTextual() || url.asText().isEmpty())
                                        throw ApiException.invalid(pp + ".video_url", pp + ".video_url.url must be a non-empty string");
                                    int frames = 0;
                                    JsonNode nf = vu.isObject() ? vu.get("num_frames") : null;
                                    if (nf != null && !nf.isNull()) {
                                        if (!nf.isIntegralNumber() || nf.asInt() < 1 || nf.asInt() > 64)
                                            throw ApiException.invalid(pp + ".video_url.num_frames", "num_frames must be an integer in 1..64");
                                        frames = nf.asInt();
                                    }
                                    if (++images > maxImages)
                                        throw ApiException.invalid(pp, "too_many_images", "at most " + maxImages + " images or videos per request");
                                    media.add(new Conversation.Video(null, frames, null, resolver.video(url.asText(), pp + ".video_url")));
                                }
                                default -> throw ApiException.invalid(pp + ".type", "unsupported content part type '" + type
                                        + "'; expected text, image_url or video_url");
                            }
                        }
                    } else throw ApiException.invalid(p + ".content", p + ".content must be a string or an array of content parts");
                    user = user == null ? text : (text.isEmpty() ? user : user.append('\n').append(text));
                }
                default -> { // assistant
                    if (user == null) throw ApiException.invalid(p, "an assistant message must follow a user message");
                    turns.add(new Conversation.Turn(user.toString(), List.copyOf(media), textOnly(content, p)));
                    user = null;
                    media = new ArrayList<>();
                }
            }
        }
        if (user == null) throw ApiException.invalid("messages", "the last message must be from the user");
        if (user.toString().isBlank() && media.isEmpty())
            throw ApiException.invalid("messages", "the last user message is empty");
        turns.add(new Conversation.Turn(user.toString(), List.copyOf(media), null));
        return new Messages(new Conversation(system == null ? null : system.toString(), List.copyOf(turns)), images);
    }

    /** Content of system and assistant messages: a string or text parts only. */
    private static String textOnly(JsonNode content, String p) {
        if (content == null || content.isNull()) throw ApiException.invalid(p + ".content", p + ".content is required");
        if (content.isTextual()) return content.asText();
        if (!content.isArray()) throw ApiException.invalid(p + ".content", p + ".content must be a string or an array of text parts");
        StringBuilder sb = new StringBuilder();
        for (int j = 0; j < content.size(); j++) {
            JsonNode part = content.get(j);
            if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual())
                throw ApiException.invalid(p + ".content[" + j + "]", "only text parts are allowed in " + p);
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(part.get("text").asText());
        }
        return sb.toString();
    }

    private static List<String> parseStop(JsonNode stop) {
        if (stop == null || stop.isNull()) return List.of();
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) out.add(stop.asText());
        else if (stop.isArray()) {
            if (stop.size() > 4) throw ApiException.invalid("stop", "stop may hold at most 4 sequences");
            for (JsonNode s : stop) {
                if (!s.isTextual()) throw ApiException.invalid("stop", "stop must be a string or an array of strings");
                out.add(s.asText());
            }
        } else throw ApiException.invalid("stop", "stop must be a string or an array of strings");
        for (String s : out) if (s.isEmpty()) throw ApiException.invalid("stop", "stop sequences must not be empty");
        return List.copyOf(out);
    }

    private static String optString(JsonNode o, String f) {
        JsonNode v = o.get(f);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw ApiException.invalid(f, f + " must be a string");
        return v.asText();
    }

    private static boolean optBoolean(JsonNode o, String f) {
        JsonNode v = o.get(f);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw ApiException.invalid(f, f + " must be a boolean");
        return v.asBoolean();
    }

    /** A number in [lo, hi] (lo exclusive unless loInclusive). */
    private static Double optNumber(JsonNode o, String f, double lo, double hi, boolean loInclusive) {
        JsonNode v = o.get(f);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw ApiException.invalid(f, f + " must be a number");
        double d = v.asDouble();
        if (!(loInclusive ? d >= lo : d > lo) || d > hi || Double.isNaN(d))
            throw ApiException.invalid(f, f + " must be in " + (loInclusive ? "[" : "(") + lo + ", " + hi + "], got " + d);
        return d;
    }
}
