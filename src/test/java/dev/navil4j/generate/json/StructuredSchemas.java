package dev.navil4j.generate.json;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Schemas as the structured-output helpers send them. Written here by hand after what those helpers produce:
 * the OpenAI Python SDK's pydantic helper ({@code to_strict_json_schema}: $defs, additionalProperties false,
 * every property required, Optional as anyOf with null, enums in $defs), LangChain's withStructuredOutput (the
 * same pydantic output, with titles and descriptions), and the OpenAI Node SDK's zod helper (type lists for
 * nullable, "definitions" with $ref, $schema draft-07).
 */
public final class StructuredSchemas {
    private StructuredSchemas() {}

    public static Map<String, JsonNode> all() {
        Map<String, String> m = new LinkedHashMap<>();
        // pydantic: class Step(BaseModel): explanation: str; output: str
        //           class MathReasoning(BaseModel): steps: list[Step]; final_answer: str
        m.put("pydantic-math", """
                {"$defs":{"Step":{"properties":{"explanation":{"title":"Explanation","type":"string"},
                "output":{"title":"Output","type":"string"}},"required":["explanation","output"],"title":"Step",
                "type":"object","additionalProperties":false}},
                "properties":{"steps":{"items":{"$ref":"#/$defs/Step"},"title":"Steps","type":"array"},
                "final_answer":{"title":"Final Answer","type":"string"}},
                "required":["steps","final_answer"],"title":"MathReasoning","type":"object","additionalProperties":false}""");
        // pydantic: Color(Enum), Optional[int] with default None (strict drops the default), list[list[float]], bool, Literal
        m.put("pydantic-optional-enum-nested", """
                {"$defs":{"Color":{"enum":["red","green","blue"],"title":"Color","type":"string"}},
                "properties":{"name":{"description":"The person's name","title":"Name","type":"string"},
                "age":{"anyOf":[{"type":"integer"},{"type":"null"}],"title":"Age"},
                "favorite":{"$ref":"#/$defs/Color"},
                "matrix":{"items":{"items":{"type":"number"},"type":"array"},"title":"Matrix","type":"array"},
                "active":{"title":"Active","type":"boolean"},
                "kind":{"const":"person","title":"Kind","type":"string"}},
                "required":["name","age","favorite","matrix","active","kind"],"title":"Person","type":"object",
                "additionalProperties":false}""");
        // pydantic recursion: class Node(BaseModel): label: str; children: list["Node"]
        m.put("pydantic-recursive", """
                {"$defs":{"Node":{"properties":{"label":{"title":"Label","type":"string"},
                "children":{"items":{"$ref":"#/$defs/Node"},"title":"Children","type":"array"}},
                "required":["label","children"],"title":"Node","type":"object","additionalProperties":false}},
                "$ref":"#/$defs/Node"}""");
        // pydantic union of two models: anyOf of objects that both start with '{'
        m.put("pydantic-union", """
                {"$defs":{"Cat":{"properties":{"meows":{"type":"integer"}},"required":["meows"],"type":"object","additionalProperties":false},
                "Dog":{"properties":{"barks":{"type":"number"},"good":{"type":"boolean"}},"required":["barks","good"],"type":"object","additionalProperties":false}},
                "properties":{"pet":{"anyOf":[{"$ref":"#/$defs/Cat"},{"$ref":"#/$defs/Dog"},{"type":"null"}]}},
                "required":["pet"],"type":"object","additionalProperties":false}""");
        // zod: z.object({ city: z.string(), temps: z.array(z.number()).min(1).max(3), note: z.string().nullable(),
        //   unit: z.enum(["c","f"]), tags: z.array(z.string().max(8)) })
        m.put("zod-weather", """
                {"type":"object","properties":{"city":{"type":"string"},
                "temps":{"type":"array","items":{"type":"number"},"minItems":1,"maxItems":3},
                "note":{"type":["string","null"]},"unit":{"type":"string","enum":["c","f"]},
                "tags":{"type":"array","items":{"type":"string","maxLength":8,"minLength":1}}},
                "required":["city","temps","note","unit","tags"],"additionalProperties":false,
                "definitions":{},"$schema":"http://json-schema.org/draft-07/schema#"}""");
        // zod with definitions/$ref (a reused sub-schema) and a non-strict optional property
        m.put("zod-definitions", """
                {"type":"object","properties":{"home":{"$ref":"#/definitions/addr"},"work":{"$ref":"#/definitions/addr"},
                "nickname":{"type":"string"}},"required":["home","work"],"additionalProperties":false,
                "definitions":{"addr":{"type":"object","properties":{"street":{"type":"string"},"zip":{"type":"string","format":"postal"}},
                "required":["street","zip"],"additionalProperties":false}}}""");
        Map<String, JsonNode> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, SchemaValidator.parse(v)));
        return out;
    }
}
