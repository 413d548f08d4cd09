package dev.navil4j.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.weights.Json;
import dev.navil4j.weights.WeightsException;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A family's default decoding settings resolved as transformers' generate() resolves them (generation/utils.py
 * _prepare_generation_config): the model's generation config (generation_config.json, or GenerationConfig
 * .from_model_config of the LLM's config for models built from a config), then the global defaults of
 * GenerationConfig._get_default_generation_params: do_sample false, temperature 1.0, top_k 50, top_p 1.0,
 * repetition_penalty 1.0. The call's own arguments (a request's options) are applied on top by the caller.
 */
public final class GenerationDefaults {
    /** HF's global defaults. */
    public static final float TEMPERATURE = 1f, TOP_P = 1f, REPETITION_PENALTY = 1f;
    public static final int TOP_K = 50;
    /**
     * max_new_tokens when the source sets none. HF's own fallback is max_length 20 (prompt included); every
     * reference call site passes max_new_tokens (1024 in the InternVL, NaViL and VoRA model cards), so navil4j uses that.
     */
    public static final int MAX_NEW_TOKENS = 1024;

    private GenerationDefaults() {}

    /**
     * The defaults read from {@code source}: generation_config.json or a model config dict (from_model_config reads
     * the same keys, ignoring nulls). {@code stops} null: the source's eos_token_id (an int or a list).
     *
     * @param penalizePrompt whether the repetition penalty also covers the prompt (false when the reference
     *                       generates from inputs_embeds, whose input_ids start empty)
     */
    public static GenerationConfig from(Json.Obj source, Set<Integer> stops, boolean penalizePrompt) {
        Json.Obj g = source != null ? source : new Json.Obj(Json.MAPPER.createObjectNode(), "(none)");
        int maxNew = g.integer("max_new_tokens", MAX_NEW_TOKENS);
        int topK = g.integer("top_k", TOP_K);
        float topP = (float) g.number("top_p", TOP_P), temp = (float) g.number("temperature", TEMPERATURE);
        float rep = (float) g.number("repetition_penalty", REPETITION_PENALTY);
        if (maxNew <= 0) throw new WeightsException(g.where() + ": max_new_tokens " + maxNew + " must be positive");
        if (topK < 0) throw new WeightsException(g.where() + ": top_k " + topK + " must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new WeightsException(g.where() + ": top_p " + topP + " must be in (0, 1]");
        if (!(temp >= 0)) throw new WeightsException(g.where() + ": temperature " + temp + " must be >= 0");
        if (!(rep > 0)) throw new WeightsException(g.where() + ": repetition_penalty " + rep + " must be > 0");
        Set<Integer> eos = stops != null ? stops : eosIds(g);
        return new GenerationConfig(maxNew, g.bool("do_sample", false), temp, topP, topK, 0, rep, penalizePrompt, Set.copyOf(eos));
    }

    /** eos_token_id as an int or a list of ints; empty when absent. */
    public static Set<Integer> eosIds(Json.Obj g) {
        Set<Integer> out = new LinkedHashSet<>();
        if (!g.has("eos_token_id")) return out;
        JsonNode e = g.required("eos_token_id");
        if (e.isArray()) e.forEach(x -> out.add(x.asInt()));
        else out.add(e.asInt());
        return out;
    }
}
