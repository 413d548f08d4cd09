package dev.navil4j.generate;

import dev.navil4j.tokenizer.Tokenizer;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * The tokenizer's vocabulary as a byte trie: tokens sharing a prefix share a path, so a grammar walked down the
 * trie tests a shared prefix once and drops a whole subtree at the first byte it refuses (150k-token vocabularies
 * are walked in a few milliseconds when most of them fail early). Tokens without fixed bytes (special tokens) are
 * not in it. Built once per tokenizer and shared.
 */
public final class VocabularyTrie {
    private static final Map<Tokenizer, VocabularyTrie> CACHE = new WeakHashMap<>();

    // node i: children are a linked list firstChild -> nextSibling, each with the byte on the edge into it
    private int[] firstChild, nextSibling, firstToken;
    private byte[] label;
    private int nodes = 1;
    /** token ids ending at a node, linked through nextToken (several ids may spell the same bytes) */
    private final int[] nextToken;
    private final int vocabSize;
    private final byte[][] bytes;

    private VocabularyTrie(Tokenizer tokenizer) {
        vocabSize = tokenizer.size();
        int cap = 1 << 16;
        firstChild = new int[cap];
        nextSibling = new int[cap];
        firstToken = new int[cap];
        label = new byte[cap];
        java.util.Arrays.fill(firstChild, -1);
        java.util.Arrays.fill(firstToken, -1);
        nextToken = new int[vocabSize];
        bytes = new byte[vocabSize][];
        for (int id = 0; id < vocabSize; id++) {
            byte[] b = tokenizer.tokenBytes(id);
            if (b == null || b.length == 0) continue;
            bytes[id] = b;
            int n = 0;
            for (byte x : b) n = child(n, x);
            nextToken[id] = firstToken[n];
            firstToken[n] = id;
        }
    }

    /** The shared trie of {@code tokenizer}'s vocabulary. */
    public static VocabularyTrie of(Tokenizer tokenizer) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(tokenizer, VocabularyTrie::new);
        }
    }

    public int vocabSize() { return vocabSize; }

    public int nodeCount() { return nodes; }

    /** The bytes of token {@code id}, or null when it is not in the trie (special, or no bytes). */
    byte[] bytes(int id) { return id >= 0 && id < vocabSize ? bytes[id] : null; }

    private int child(int n, byte b) {
        for (int c = firstChild[n]; c >= 0; c = nextSibling[c]) if (label[c] == b) return c;
        if (nodes == label.length) grow();
        int c = nodes++;
        label[c] = b;
        nextSibling[c] = firstChild[n];
        firstChild[n] = c;
        return c;
    }

    private void grow() {
        int cap = label.length * 2, old = label.length;
        firstChild = java.util.Arrays.copyOf(firstChild, cap);
        nextSibling = java.util.Arrays.copyOf(nextSibling, cap);
        firstToken = java.util.Arrays.copyOf(firstToken, cap);
        label = java.util.Arrays.copyOf(label, cap);
        java.util.Arrays.fill(firstChild, old, cap, -1);
        java.util.Arrays.fill(firstToken, old, cap, -1);
    }

    /** Receives each token whose bytes the grammar accepts from the walk's start state, with the state after it. */
    public interface Visitor<S> {
        void token(int id, S after);
    }

    /**
     * Visits every token whose whole byte string {@code grammar} accepts from {@code from} (depth first, a refused
     * byte pruning its subtree).
     */
    public <S> void walk(ByteGrammar<S> grammar, S from, Visitor<S> visitor) {
        int[] stackNode = new int[64];
        Object[] stackState = new Object[64];
        int top = 0;
        stackNode[0] = 0;
        stackState[0] = from;
        top = 1;
        while (top > 0) {
            top--;
            int n = stackNode[top];
            @SuppressWarnings("unchecked") S s = (S) stackState[top];
            stackState[top] = null;
            for (int c = firstChild[n]; c >= 0; c = nextSibling[c]) {
                S t = grammar.step(s, label[c] & 0xFF);
                if (t == null) continue;
                for (int id = firstToken[c]; id >= 0; id = nextToken[id]) visitor.token(id, t);
                if (firstChild[c] < 0) continue;
                if (top == stackNode.length) {
                    stackNode = java.util.Arrays.copyOf(stackNode, top * 2);
                    stackState = java.util.Arrays.copyOf(stackState, top * 2);
                }
                stackNode[top] = c;
                stackState[top] = t;
                top++;
            }
        }
    }
}
