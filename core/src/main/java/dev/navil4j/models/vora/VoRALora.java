package dev.navil4j.models.vora;

import dev.navil4j.models.qwen2.Qwen2Model;
import dev.navil4j.nn.Linear;
import dev.navil4j.nn.LoraLinear;
import dev.navil4j.tensor.WeightTensor;
import dev.navil4j.weights.TensorInfo;
import dev.navil4j.weights.WeightsException;

import java.util.HashSet;
import java.util.Set;

/**
 * VoRA's LoRALayer (models/lora.py) for the Qwen2 decoder's linear layers. A LoRALayer is an nn.Linear
 * created with a bias even where Qwen2's module had none, so o_proj and the MLP of LoRA layers carry a bias;
 * with r > 0 it adds {@code lora_B(lora_A(x))} — no alpha/r scaling ("we elimate lora_alpha"). Unmerged
 * checkpoints are merged once at load as tools/merge_lora.py does ({@code W + B @ A}, bias kept), or kept
 * separate and applied on the fly (same result up to f32 rounding).
 */
final class VoRALora {
    private VoRALora() {}

    /**
     * A loader for {@link Qwen2Model#load}: plain layers everywhere, plus LoRA on the configured layers'
     * target modules when the config's r > 0 (the tensors must then exist; none may exist when r ≤ 0).
     */
    static Qwen2Model.ProjectionLoader loader(VoRAConfig c, String llmPrefix, boolean merge) {
        Set<String> expected = new HashSet<>();
        if (c.loraRank() > 0)
            for (int l : c.loraLayers())
                for (String t : c.loraTargetModules()) expected.add(llmPrefix + "model.layers." + l + "." + t);
        return (st, name, in, out) -> {
            Linear base = Linear.loadOptionalBias(st, name, in, out);
            boolean has = st.contains(name + ".lora_A.weight") || st.contains(name + ".lora_B.weight");
            if (has != expected.contains(name))
                throw new WeightsException(st.location() + ": " + name + (has ? " has LoRA weights but config.json lora (r "
                        + c.loraRank() + ", layers " + c.loraLayers() + ") does not name it" : " lacks lora_A/lora_B although config.json lora.r = "
                        + c.loraRank()));
            if (!has) return base;
            TensorInfo a = st.get(name + ".lora_A.weight");
            if (a.rank() != 2 || a.dim(1) != in || a.dim(0) != c.loraRank())
                throw new WeightsException(st.location() + ": " + a.name() + " has shape " + a.shapeString() + ", expected [" + c.loraRank() + ", " + in + "]");
            TensorInfo b = st.get(name + ".lora_B.weight", out, c.loraRank());
            LoraLinear lora = new LoraLinear(base, a.matrix(), b.matrix(), 1f);
            return merge ? lora.merge() : lora;
        };
    }
}
