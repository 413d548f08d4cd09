package dev.navil4j.tokenizer;

import java.util.List;
import java.util.Random;

/**
 * Seeded random strings that stress tokenizers: scripts (CJK, kana, Hangul syllables and jamo, Arabic,
 * Hebrew, Devanagari, Thai, Cyrillic, Greek), emoji with ZWJ / skin tones / VS16 / flags / keycaps,
 * combining marks and NFC-changing sequences, code, digits of several scripts, whitespace runs of
 * every White_Space kind, control and zero-width characters, contractions (also 'S and 'ſ), and
 * special tokens inline. Only characters assigned since Unicode 10, so the Java, Oniguruma and Rust
 * tables agree.
 */
final class RandomText {
    private static final String[] WORDS = {"the", "The", "quick", "brown", "fox", "naïve", "café", "über", "hello", "world",
            "def", "return", "x", "y", "foo_bar", "HTTP", "URL", "CamelCase", "ALLCAPS", "a", "I", "don", "can",
            "你好", "世界", "中文", "日本語", "テキスト", "한국어", "مرحبا", "العالم", "שלום", "नमस्ते", "สวัสดี", "Привет",
            "мир", "Γειά", "σου", "ß", "ǅ", "ﬁ"};
    private static final String[] SNIPPETS = {"def f(x):\n\treturn x ** 2  # square\n", "for (int i = 0; i < n; i++) {\n    sum += a[i];\n}",
            "if __name__ == '__main__':\n    main()", "<div class=\"x\">&amp;</div>", "https://example.com/a?b=1&c=2#frag",
            "someone@example.com", "3.14159", "-12e5", "1,234,567", "$ ls -la | grep foo", "x := y /* c */", "{\"k\": [1, 2, null]}",
            "\\n\\t", "''", "``", "--", "...", "?!", "¿Qué?", "«quoted»", "“smart”", "[[10, 20, 300, 400]]"};
    private static final String[] CONTRACTIONS = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'LL", "'D",
            "'ſ", "n't", "'x", "'", "’s"};
    private static final String[] EMOJI = {"😀", "🚀", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🇺🇸", "1️⃣", "#️⃣", "🤷‍♀️", "👩🏿‍💻",
            "☺", "✨", "🙈", "🧑‍🤝‍🧑"};
    private static final String[] WS = {" ", "  ", "    ", "\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u00A0", "\u3000", "\u2009",
            "\u2028", "\u0085", "\u000B", "\u000C", "\u1680", "\u202F", " \t \n", "        \n"};
    private static final String[] ODD = {"\u0000", "\u0007", "\u001B", "\u007F", "\u200B", "\u200C", "\u200D", "\uFEFF", "\u00AD",
            "e\u0301", "\u212B", "\u1100\u1161\u11A8", "A\u030A", "\u0041\u0308\u0301", "\u0338", ">\u0338", "ſ", "\u212A",
            "²", "½", "Ⅻ", "٣٤", "४२", "①", "𝟘", "\uD835\uDC00", "\uFFFD", "\u0301\u0301", "ｆｕｌｌ", "İ", "ı"};
    private static final int[][] RANGES = {{0x4E00, 0x9FA5}, {0x3041, 0x3096}, {0x30A1, 0x30FA}, {0xAC00, 0xD7A3}, {0x0621, 0x064A},
            {0x05D0, 0x05EA}, {0x0905, 0x0939}, {0x0E01, 0x0E2E}, {0x0410, 0x044F}, {0x0391, 0x03A9}, {0x0300, 0x036F},
            {0x0021, 0x007E}, {0x00A1, 0x00FF}, {0x1F600, 0x1F64F}, {0x2000, 0x206F}, {0x0030, 0x0039}};

    private final Random rnd;
    private final List<String> specials;

    RandomText(long seed, List<String> specials) {
        this.rnd = new Random(seed);
        this.specials = specials;
    }

    private String pick(String[] a) { return a[rnd.nextInt(a.length)]; }

    String next() {
        StringBuilder sb = new StringBuilder();
        int parts = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 60 : 12);
        for (int i = 0; i < parts; i++) {
            switch (rnd.nextInt(12)) {
                case 0, 1 -> sb.append(pick(WORDS));
                case 2 -> sb.append(pick(WS));
                case 3 -> sb.append(pick(SNIPPETS));
                case 4 -> sb.append(pick(CONTRACTIONS));
                case 5 -> sb.append(pick(EMOJI));
                case 6 -> sb.append(pick(ODD));
                case 7 -> { if (!specials.isEmpty()) sb.append(specials.get(rnd.nextInt(specials.size()))); }
                case 8 -> { for (int k = rnd.nextInt(6); k >= 0; k--) sb.append(rnd.nextInt(10)); }
                case 9 -> { // run of characters from one script range
                    int[] r = RANGES[rnd.nextInt(RANGES.length)];
                    for (int k = rnd.nextInt(8); k >= 0; k--) sb.appendCodePoint(r[0] + rnd.nextInt(r[1] - r[0] + 1));
                }
                case 10 -> sb.append(" ".repeat(rnd.nextInt(20))).append(rnd.nextBoolean() ? "\n" : "");
                default -> sb.append(' ').append(pick(WORDS));
            }
        }
        return sb.toString();
    }
}
