#!/usr/bin/env bash
# JPEGs in every chroma sampling libjpeg-turbo's cjpeg writes (4:4:4, 4:2:2, 4:4:0, 4:2:0, 4:1:1, 4:1:0 and
# odd factors), progressive and with restart markers, from libjpeg-turbo's testimages/testorig.ppm.
# Test data only (needs Debian's libjpeg-turbo-progs):  scripts/image-corpus/make_jpeg_samples.sh SRC.ppm OUTDIR
set -euo pipefail
src=$1; out=$2
mkdir -p "$out"
for s in 1x1 2x1 1x2 2x2 4x1 1x4 4x2 2x4 3x1 3x2; do
  cjpeg -sample "$s" -quality 90 -outfile "$out/sample_$s.jpg" "$src"
done
for s in 1x2 2x2; do
  cjpeg -sample "$s" -quality 85 -progressive -outfile "$out/progressive_$s.jpg" "$src"
done
cjpeg -sample 2x2 -quality 75 -restart 1 -outfile "$out/restart1_2x2.jpg" "$src"
cjpeg -sample 2x1 -quality 95 -optimize -outfile "$out/optimize_2x1.jpg" "$src"
cjpeg -grayscale -quality 90 -outfile "$out/gray.jpg" "$src"
cjpeg -rgb -quality 90 -outfile "$out/rgb_components.jpg" "$src"
