package dev.navil4j.models.navil;

import dev.navil4j.tokenizer.PromptText;

import java.util.List;

/**
 * NaViL's conversation templates (navil/conversation.py, MPT separator style): {@code internlm2-chat} and
 * {@code qwen3-chat}, which differ only in the assistant role (Qwen3's carries an empty think block).
 * prompt = {@code <|im_start|>system\n{sys}<|im_end|>} + per message role + text + {@code <|im_end|>} (no
 * newline after it), an empty or missing message writing only its role.
 */
public record NaViLTemplate(String name, String systemMessage, String userRole, String assistantRole, String sep) {
    static final String DEFAULT_SYSTEM =
            "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。";

    public static NaViLTemplate of(String name) {
        return switch (name) {
            case "internlm2-chat" -> new NaViLTemplate(name, DEFAULT_SYSTEM, "<|im_start|>user\n", "<|im_start|>assistant\n", "<|im_end|>");
            case "qwen3-chat" -> new NaViLTemplate(name, DEFAULT_SYSTEM, "<|im_start|>user\n",
                    "<|im_start|>assistant\n<think>\n\n</think>\n\n", "<|im_end|>");
            default -> throw new IllegalArgumentException("unknown NaViL conversation template \"" + name
                    + "\" (internlm2-chat, qwen3-chat)");
        };
    }

    /**
     * The tokens the prompt format and the image expansion are built from: never matched inside system/user text
     * (grounding tokens such as {@code <ref>}/{@code <box>} stay usable there, as the reference's prompts use them).
     */
    static final java.util.Set<String> STRUCTURAL = java.util.Set.of("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<s>",
            "</s>", "<think>", "</think>", "<img>", "</img>", "<IMG_CONTEXT>", "<IMG_LINE_BREAK>", "<IMG_FRAME_BREAK>", "<img_uncond>");

    /** A (question, answer) pair; answer null or empty for the open last turn. */
    public record Exchange(String question, String answer) {}

    /** The prompt string get_prompt() returns, ending with the assistant role of the last (open) exchange. */
    public String prompt(String system, List<Exchange> exchanges) {
        return promptText(system, exchanges, true).text();
    }

    /**
     * {@link #prompt} with the system and user messages marked as content (special-token text in them stays text unless
     * allowed); answers, the model's own output, are tokenized as the reference re-tokenizes the history.
     */
    public PromptText promptText(String system, List<Exchange> exchanges, boolean allowSpecialInContent) {
        PromptText b = new PromptText(allowSpecialInContent, STRUCTURAL).control("<|im_start|>system\n")
                .content(system == null ? systemMessage : system).control(sep);
        for (Exchange e : exchanges) {
            message(b, userRole, e.question(), true);
            message(b, assistantRole, e.answer(), false);
        }
        return b;
    }

    /** Python truthiness: an empty message writes only the role. */
    private void message(PromptText b, String role, String text, boolean content) {
        b.control(role);
        if (text != null && !text.isEmpty()) (content ? b.content(text) : b.control(text)).control(sep);
    }
}
