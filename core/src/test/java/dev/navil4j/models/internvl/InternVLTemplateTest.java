package dev.navil4j.models.internvl;

import dev.navil4j.models.internvl.InternVLTemplate.Exchange;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** conversation.py SeparatorStyle.MPT rendering, <image> expansion and chat()'s response clean-up. */
class InternVLTemplateTest {
    @Test
    void rendersTheMptStyleWithTheOpenAssistantTurn() {
        String q = InternVLTemplate.render("SYS", List.of(new Exchange("hi", "yo"), new Exchange("<image>\nwhat?", null)));
        assertThat(q).isEqualTo("<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nyo<|im_end|>\n"
                + "<|im_start|>user\n<image>\nwhat?<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void anEmptyHistoryAnswerLosesItsSeparatorAsInPython() {
        // `if message:` is false for '' → only the role is appended
        String q = InternVLTemplate.render("S", List.of(new Exchange("a", ""), new Exchange("b", null)));
        assertThat(q).isEqualTo("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\n"
                + "<|im_start|>user\nb<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void expandsPlaceholdersInOrderAndLeavesExtrasAsText() {
        String s = InternVLTemplate.expandImages("A<image>B<image>C<image>", new int[] {2, 1}, 3);
        String ctx = InternVLTemplate.IMG_CONTEXT;
        assertThat(s).isEqualTo("A<img>" + ctx.repeat(6) + "</img>B<img>" + ctx.repeat(3) + "</img>C<image>");
        assertThatThrownBy(() -> InternVLTemplate.expandImages("<image>", new int[] {1, 1}, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fewer <image> placeholders");
    }

    @Test
    void cleanResponseSplitsAtImEndAndStripsPythonWhitespace() {
        assertThat(InternVLTemplate.cleanResponse(" \u3000\n answer \t<|im_end|> tail")).isEqualTo("answer");
        assertThat(InternVLTemplate.cleanResponse("\u001c\u0085x\u00a0")).isEqualTo("x");
        // U+200B is not whitespace for Python; U+FFFD neither
        assertThat(InternVLTemplate.cleanResponse("\u200bx\ufffd ")).isEqualTo("\u200bx\ufffd");
    }

    @Test
    void onlyTheInternVL25TemplateIsAccepted() {
        InternVLTemplate.checkSupported("internvl2_5");
        assertThatThrownBy(() -> InternVLTemplate.checkSupported("Hermes-2")).hasMessageContaining("not supported");
    }
}
