package dev.navil4j.generate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.navil4j.generate.json.JsonSchemaCompiler;
import dev.navil4j.generate.json.SchemaValidator;
import dev.navil4j.generate.json.StructuredSchemas;
import dev.navil4j.models.GenerationConfig;
import dev.navil4j.models.LoadOptions;
import dev.navil4j.models.ModelRegistry;
import dev.navil4j.models.PreparedPrompt;
import dev.navil4j.models.VisionLanguageModel;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The constraint hook of the generation loop on the random-weight InternVL3 fixture. */
class ConstrainedSequenceTest {
    static Sequence.Result run(VisionLanguageModel m, GenerationConfig config, TokenConstraint c) {
        String prompt = "JSON please:";
        Sequence s = new Sequence(m, PreparedPrompt.text(m.tokenizer().encode(prompt, true), prompt), config, m.newState(), null).constrain(c);
        while (!s.finished()) s.accept(m.step(List.of(s.nextStep(Integer.MAX_VALUE)))[0]);
        return s.result();
    }

    @Test
    void stopIdOnlyOnceCompleteAndEndWithoutOne() {
        try (VisionLanguageModel m = ModelRegistry.load(Path.of("fixtures/internvl3-tiny/model"), LoadOptions.defaults())) {
            JsonNode schema = StructuredSchemas.all().get("pydantic-optional-enum-nested");
            TokenConstraint.Factory f = GrammarConstraint.factory(JsonSchemaCompiler.compile(schema, true));
            GenerationConfig base = m.defaultGeneration().withMaxNewTokens(300);
            for (long seed = 1; seed <= 4; seed++) {
                GenerationConfig sampled = base.withSampling(true, 1f, 1f, 0, seed).withTopLogprobs(0);
                Sequence.Result r = run(m, sampled, f.start(m.tokenizer()));
                assertThat(r.finish()).isEqualTo(Sequence.Finish.STOP);
                // the stop id comes last, once, and only after the value is complete
                int last = r.ids()[r.ids().length - 1];
                assertThat(sampled.stopIds()).contains(last);
                for (int i = 0; i < r.ids().length - 1; i++) assertThat(sampled.stopIds()).doesNotContain(r.ids()[i]);
                assertThat(SchemaValidator.errors(schema, SchemaValidator.parse(r.text()))).as(r.text()).isEmpty();
                assertThat(r.logprobs()).hasSize(r.ids().length - 1);
            }
            // no stop ids at all: the sequence ends itself when the value is complete and nothing may follow
            GenerationConfig noStop = new GenerationConfig(300, true, 1f, 1f, 0, 9, 1f, true, Set.of());
            Sequence.Result r = run(m, noStop, f.start(m.tokenizer()));
            assertThat(r.finish()).isEqualTo(Sequence.Finish.STOP);
            assertThat(SchemaValidator.errors(schema, SchemaValidator.parse(r.text()))).as(r.text()).isEmpty();
        }
    }
}
