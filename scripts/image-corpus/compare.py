#!/usr/bin/env python3
"""Largest per-sample error of navil4j's RGB against Pillow's, for the files that differ.

    python scripts/image-corpus/generate_expected.py fixtures/image-corpus --dump /tmp/pil
    mvn -o test -Dtest=ImageCorpusTest -Dimage.corpus.dump=/tmp/navil4j
    python3 scripts/image-corpus/compare.py /tmp/pil /tmp/navil4j

Plain Python (no Pillow needed): both dumps are raw RGB bytes.
"""
import os
import sys


def main():
    pil, ours = sys.argv[1], sys.argv[2]
    for dirpath, _, files in sorted(os.walk(ours)):
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(dirpath, f), ours)
            a = open(os.path.join(ours, rel), 'rb').read()
            ref = os.path.join(pil, rel)
            if not os.path.exists(ref):
                print('%-60s Pillow refused' % rel)
                continue
            b = open(ref, 'rb').read()
            if len(a) != len(b):
                print('%-60s size differs (%d vs %d bytes)' % (rel, len(a), len(b)))
                continue
            diffs = [abs(x - y) for x, y in zip(a, b)]
            n = sum(1 for d in diffs if d)
            print('%-60s max %3d  differing samples %d / %d' % (rel, max(diffs), n, len(a)))


if __name__ == '__main__':
    main()
