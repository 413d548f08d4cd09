package dev.navil4j.models.navil;

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

    /** A (question, answer) pair; answer null or empty for the open last turn. */
    public record Exchange(String question, String answer) {}

    /** The prompt string get_prompt() returns, ending with the assistant role of the last (open) exchange. */
    public String prompt(String system, List<Exchange> exchanges) {
        StringBuilder b = new StringBuilder("<|im_start|>system\n").append(system == null ? systemMessage : system).append(sep);
        for (Exchange e : exchanges) {
            message(b, userRole, e.question());
            message(b, assistantRole, e.answer());
        }
        return b.toString();
    }

    /** Python truthiness: an empty message writes only the role. */
    private void message(StringBuilder b, String role, String text) {
        b.append(role);
        if (text != null && !text.isEmpty()) b.append(text).append(sep);
    }
}
