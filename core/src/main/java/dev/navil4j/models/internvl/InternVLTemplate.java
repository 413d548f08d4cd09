package dev.navil4j.models.internvl;

import dev.navil4j.tokenizer.PromptText;

import java.util.List;

/**
 * The prompt chat()/batch_chat() build (modeling_internvl_chat.py + conversation.py): the conversation template,
 * then every {@code <image>} placeholder, in order and history included, replaced by
 * {@code <img>} + {@code <IMG_CONTEXT>} × num_image_token × tiles + {@code </img>}.
 * Only the {@code internvl2_5} template (InternVL2.5 / InternVL3 with Qwen2.5 LLMs) is implemented.
 */
public final class InternVLTemplate {
    public static final String IMAGE = "<image>";
    public static final String IMG_START = "<img>", IMG_END = "</img>", IMG_CONTEXT = "<IMG_CONTEXT>";
    /** conversation.py internvl2_5: system_message (the Chinese self-introduction). */
    public static final String INTERNVL2_5_SYSTEM =
            "你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。";
    static final String SYSTEM_PREFIX = "<|im_start|>system\n", USER = "<|im_start|>user\n",
            ASSISTANT = "<|im_start|>assistant\n", SEP = "<|im_end|>\n";
    /**
     * The tokens this prompt format is built from (role markers, separators, end of text, image expansion): never
     * matched inside system/user text. Other added tokens (grounding {@code <ref>}, {@code <box>}) stay usable there.
     */
    public static final java.util.Set<String> STRUCTURAL = java.util.Set.of("<|im_start|>", "<|im_end|>", "<|endoftext|>",
            IMG_START, IMG_END, IMG_CONTEXT);

    /** template.sep.strip(): the stop token and the string responses are cut at. */
    public static final String STOP = "<|im_end|>";

    /** A question and its answer (null for the question being asked). */
    public record Exchange(String question, String answer) {}

    private InternVLTemplate() {}

    public static void checkSupported(String template) {
        if (!"internvl2_5".equals(template))
            throw new IllegalArgumentException("conversation template \"" + template + "\" is not supported (navil4j implements internvl2_5)");
    }

    /**
     * SeparatorStyle.MPT: system_template + sep, then per message role + message + sep, or the bare role when the
     * message is empty/None (Python truthiness: an empty answer loses its sep, as the reference does).
     */
    public static String render(String system, List<Exchange> exchanges) {
        return renderText(system, exchanges, true).text();
    }

    /**
     * {@link #render} with the system and user messages marked as content (special-token text in them stays text
     * unless allowed). Answers are the model's own output and are tokenized as the reference re-tokenizes the history
     * (special tokens matched), so multi-turn prompts keep the reference ids.
     */
    public static PromptText renderText(String system, List<Exchange> exchanges, boolean allowSpecialInContent) {
        PromptText b = new PromptText(allowSpecialInContent, STRUCTURAL).control(SYSTEM_PREFIX).content(system).control(SEP);
        for (Exchange e : exchanges) {
            message(b, USER, e.question(), true);
            message(b, ASSISTANT, e.answer(), false);
        }
        return b;
    }

    private static void message(PromptText b, String role, String text, boolean content) {
        b.control(role);
        if (text != null && !text.isEmpty()) (content ? b.content(text) : b.control(text)).control(SEP);
    }

    /** Replaces the first {@code numPatchesList.length} {@code <image>} placeholders (query.replace(..., 1) in a loop). */
    public static String expandImages(String query, int[] numPatchesList, int numImageToken) {
        String out = query;
        for (int tiles : numPatchesList) {
            int at = out.indexOf(IMAGE);
            if (at < 0)
                throw new IllegalArgumentException("the prompt has fewer <image> placeholders than images (" + numPatchesList.length + ")");
            out = out.substring(0, at) + imageTokens(tiles, numImageToken) + out.substring(at + IMAGE.length());
        }
        return out;
    }

    /** {@link #expandImages(String, int[], int)} on a templated prompt: the expansions are template text. */
    public static PromptText expandImages(PromptText query, int[] numPatchesList, int numImageToken) {
        for (int tiles : numPatchesList)
            if (!query.replaceFirst(IMAGE, imageTokens(tiles, numImageToken)))
                throw new IllegalArgumentException("the prompt has fewer <image> placeholders than images (" + numPatchesList.length + ")");
        return query;
    }

    static String imageTokens(int tiles, int numImageToken) {
        return IMG_START + IMG_CONTEXT.repeat(Math.multiplyExact(tiles, numImageToken)) + IMG_END;
    }

    public static int countPlaceholders(String s) {
        int n = 0;
        for (int i = s.indexOf(IMAGE); i >= 0; i = s.indexOf(IMAGE, i + IMAGE.length())) n++;
        return n;
    }

    /** chat()'s response post-processing: split at the stop string, keep the head, Python str.strip(). */
    public static String cleanResponse(String decoded) {
        int cut = decoded.indexOf(STOP);
        return pyStrip(cut >= 0 ? decoded.substring(0, cut) : decoded);
    }

    /** Python str.strip() with no argument: removes Unicode whitespace (str.isspace) at both ends. */
    public static String pyStrip(String s) {
        int a = 0, b = s.length();
        while (a < b && isPySpace(s.codePointAt(a))) a += Character.charCount(s.codePointAt(a));
        while (b > a && isPySpace(s.codePointBefore(b))) b -= Character.charCount(s.codePointBefore(b));
        return s.substring(a, b);
    }

    /** CPython's str.isspace: bidirectional class WS/B/S or category Zs; includes \x1c-\x1f and \x85. */
    static boolean isPySpace(int c) {
        if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85) return true;
        if (c < 0x80) return false;
        return Character.getType(c) == Character.SPACE_SEPARATOR || c == 0x2028 || c == 0x2029;
    }
}
