package dev.navil4j.models.navil;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.chat.Conversation;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.generate.Generator;
import dev.navil4j.generate.Sequence;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.verify.CaseResult;
import dev.navil4j.verify.Compare;
import dev.navil4j.verify.Fixture;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code generate} fixture case: NaViL.chat(tokenizer, pixel_values, question, greedy, history) on image files
 * preprocessed as demo.load_image does, checked for the prompt ids, the generated ids and the response.
 */
final class NaViLGenerateCase {
    private NaViLGenerateCase() {}

    static CaseResult run(Fixture fx, JsonNode c, NaViL model) {
        List<Conversation.Media> media = new ArrayList<>();
        for (JsonNode p : c.path("images")) media.add(new Conversation.Image(fx.resolve(p.asText()), null));
        Conversation conv = conversation(c.path("question").asText(), c.get("history"), media);
        PreparedPrompt prompt = model.prepare(conv);
        JsonNode e = c.path("expect");
        String mismatch = null;
        if (e.has("prompt_ids")) mismatch = Compare.ids(prompt.ids(), NaViLFamily.idsOf(fx, e.get("prompt_ids")));
        if (mismatch != null) return CaseResult.fail(Double.NaN, 0, "prompt_ids: " + mismatch);
        int maxNew = c.path("generation").path("max_new_tokens").asInt();
        GenerationConfig g = model.defaultGeneration().withMaxNewTokens(maxNew);
        Sequence.Result r = Generator.generate(model, prompt, g);
        if (e.has("generated_ids")) {
            mismatch = Compare.ids(r.ids(), NaViLFamily.idsOf(fx, e.get("generated_ids")));
            if (mismatch != null) return CaseResult.fail(Double.NaN, 0, "generated_ids: " + mismatch);
        }
        if (e.has("response")) {
            mismatch = Compare.text(r.text(), e.get("response").asText());
            if (mismatch != null) return CaseResult.fail(Double.NaN, 0, "response: " + mismatch);
        }
        return CaseResult.pass(0, c.path("atol").asDouble());
    }

    /**
     * history null = first round: one turn holding the images (chat() prefixes {@code <image>\n} per image);
     * a list = later round: the images belong to the first history turn, whose stored question already holds them.
     */
    static Conversation conversation(String question, JsonNode history, List<Conversation.Media> media) {
        List<Conversation.Turn> turns = new ArrayList<>();
        if (history != null && history.isArray()) {
            boolean first = true;
            for (JsonNode h : history) {
                turns.add(new Conversation.Turn(h.get(0).asText(), first ? media : List.of(), h.get(1).asText()));
                first = false;
            }
            if (!turns.isEmpty()) {
                turns.add(new Conversation.Turn(question, List.of(), null));
                return new Conversation(null, turns);
            }
        }
        turns.add(new Conversation.Turn(question, media, null));
        return new Conversation(null, turns);
    }

}
