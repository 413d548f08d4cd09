package dev.navil4j.generate;

import dev.navil4j.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link ByteGrammar} as a {@link TokenConstraint}: a token is allowed iff its bytes drive the grammar from the
 * current state without a refusal. The allowed ids of a state are found by one {@link VocabularyTrie} walk and
 * cached by state (inside a long string the state repeats token after token), together with the fewest bytes each
 * token leaves to completion, so the length guard filters the cached list instead of walking again.
 *
 * @param <S> the grammar's state type
 */
public final class GrammarConstraint<S> implements TokenConstraint {
    /**
     * Cached mask entries hold at most this many ids in all (6 bytes each: about 6 MB), per grammar and vocabulary:
     * about seven masks of a string's inside on a 151k vocabulary, far more of the small masks between values.
     */
    static final long CACHE_IDS = 1L << 20;

    /** The ids a state allows, ascending, and the fewest bytes to completion after each. */
    private record Entry(int[] ids, short[] minAfter, int maxMinAfter) {}

    /** What the sequences of one request share: grammar, trie, mask cache. */
    private static final class Shared<S> {
        final ByteGrammar<S> grammar;
        final VocabularyTrie trie;
        private final LinkedHashMap<S, Entry> cache = new LinkedHashMap<>(64, 0.75f, true);
        private long cachedIds;

        Shared(ByteGrammar<S> grammar, VocabularyTrie trie) {
            this.grammar = grammar;
            this.trie = trie;
        }

        synchronized Entry entry(S state) {
            Entry e = cache.get(state);
            if (e != null) return e;
            e = compute(state);
            cache.put(state, e);
            cachedIds += e.ids.length + 1;
            for (var it = cache.entrySet().iterator(); cachedIds > CACHE_IDS && cache.size() > 1 && it.hasNext(); ) {
                Map.Entry<S, Entry> old = it.next();
                if (old.getKey().equals(state)) continue;
                cachedIds -= old.getValue().ids.length + 1;
                it.remove();
            }
            return e;
        }

        private Entry compute(S state) {
            int[] min = new int[trie.vocabSize()];
            Arrays.fill(min, -1);
            int[] count = {0};
            trie.walk(grammar, state, (id, after) -> {
                int m = grammar.minBytesToAccept(after);
                if (min[id] < 0) count[0]++;
                if (min[id] < 0 || m < min[id]) min[id] = m;
            });
            int[] ids = new int[count[0]];
            short[] minAfter = new short[count[0]];
            int k = 0, max = 0;
            for (int id = 0; id < min.length; id++) {
                if (min[id] < 0) continue;
                ids[k] = id;
                minAfter[k++] = (short) Math.min(Short.MAX_VALUE, min[id]); // only a budget above 32767 bytes could tell longer ones apart
                max = Math.max(max, min[id]);
            }
            return new Entry(ids, minAfter, max);
        }
    }

    private final Shared<S> shared;
    private S state;

    private GrammarConstraint(Shared<S> shared) {
        this.shared = shared;
        this.state = shared.grammar.start();
    }

    private static final Map<ByteGrammar<?>, Factory> FACTORIES = new java.util.WeakHashMap<>();

    /**
     * Constraints following {@code grammar}; the vocabulary trie and mask cache are made on the first start. The
     * same grammar object gives the same factory, so requests sharing a grammar share its cached masks.
     */
    public static <S> Factory factory(ByteGrammar<S> grammar) {
        synchronized (FACTORIES) {
            return FACTORIES.computeIfAbsent(grammar, g -> newFactory(grammar));
        }
    }

    private static <S> Factory newFactory(ByteGrammar<S> grammar) {
        return new Factory() {
            private Shared<S> shared;

            public synchronized TokenConstraint start(Tokenizer tokenizer) {
                if (shared == null || shared.trie != VocabularyTrie.of(tokenizer)) shared = new Shared<>(grammar, VocabularyTrie.of(tokenizer));
                GrammarConstraint<S> c = new GrammarConstraint<>(shared);
                shared.entry(c.state); // the first mask is computed here (a preparer thread), not in the decode loop
                return c;
            }
        };
    }

    @Override
    public int[] allowed(int byteBudget) {
        Entry e = shared.entry(state);
        if (e.maxMinAfter <= byteBudget) return e.ids;
        int n = 0;
        for (short m : e.minAfter) if (m <= byteBudget) n++;
        if (n == 0 && !isComplete()) return e.ids; // cannot finish in time whatever comes: let the length limit end it
        int[] out = new int[n];
        for (int i = 0, k = 0; i < e.ids.length; i++) if (e.minAfter[i] <= byteBudget) out[k++] = e.ids[i];
        return out;
    }

    @Override
    public void advance(int id) {
        S s = state;
        for (byte b : bytesOf(id)) {
            s = shared.grammar.step(s, b & 0xFF);
            if (s == null) throw new IllegalStateException("token " + id + " is not allowed by the grammar here");
        }
        state = s;
    }

    private byte[] bytesOf(int id) {
        byte[] b = shared.trie.bytes(id);
        if (b == null) throw new IllegalStateException("token " + id + " has no bytes (a special token)");
        return b;
    }

    @Override
    public boolean isComplete() { return shared.grammar.accepts(state); }

    @Override
    public TokenConstraint restart() { return new GrammarConstraint<>(shared); }

    /** Feeds one byte directly (tests: to reach a state from text). */
    public void advanceByte(int b) {
        S s = shared.grammar.step(state, b);
        if (s == null) throw new IllegalStateException("byte " + b + " is not allowed by the grammar here");
        state = s;
    }

    /** The grammar state (tests). */
    public S state() { return state; }
}
