package dev.kiln.data;

/**
 * Random image augmentation applied to each NHWC example of a batch, drawn from a seeded
 * generator keyed by (seed, epoch, batch) so a run is reproducible with or without prefetch.
 *
 * <pre>{@code
 * Augment a = Augment.none().withFlip(true).withCropPadding(4).withBrightness(0.1f);
 * Batches b = Batches.of(train, 64).withAugment(a);
 * }</pre>
 *
 * @param flip        mirror left-right with probability 1/2
 * @param cropPadding pad by this many zero pixels on each side, then crop back to H×W at a random
 *                    offset: a shift of up to ±cropPadding pixels in each direction (0 disables)
 * @param brightness  add one uniform delta in [-brightness, brightness] to every value of the
 *                    example; values are not clipped, so it also suits mean/std-normalised images
 */
public record Augment(boolean flip, int cropPadding, float brightness) {
    public Augment {
        if (cropPadding < 0) throw new IllegalArgumentException("crop padding " + cropPadding + " must be >= 0");
        if (!(brightness >= 0) || !Float.isFinite(brightness)) throw new IllegalArgumentException("brightness " + brightness + " must be a finite value >= 0");
    }

    public static Augment none() { return new Augment(false, 0, 0f); }

    public Augment withFlip(boolean flip) { return new Augment(flip, cropPadding, brightness); }

    public Augment withCropPadding(int cropPadding) { return new Augment(flip, cropPadding, brightness); }

    public Augment withBrightness(float brightness) { return new Augment(flip, cropPadding, brightness); }

    public boolean isNone() { return !flip && cropPadding == 0 && brightness == 0f; }

    /**
     * Augments the example at {@code x[offset ..]} of shape [h, w, c] in place. {@code scratch}
     * holds at least h*w*c floats.
     */
    void apply(float[] x, int offset, int h, int w, int c, SplitMix rng, float[] scratch) {
        // Draw all numbers first, in a fixed order, so each option's randomness is independent of the others being enabled.
        boolean doFlip = rng.nextFloat() < 0.5f;
        int dy = rng.nextInt(2 * cropPadding + 1) - cropPadding;
        int dx = rng.nextInt(2 * cropPadding + 1) - cropPadding;
        float delta = (rng.nextFloat() * 2f - 1f) * brightness;
        if (flip && doFlip) {
            for (int r = 0; r < h; r++) {
                int row = offset + r * w * c;
                for (int a = 0, b = w - 1; a < b; a++, b--) {
                    for (int k = 0; k < c; k++) {
                        float t = x[row + a * c + k];
                        x[row + a * c + k] = x[row + b * c + k];
                        x[row + b * c + k] = t;
                    }
                }
            }
        }
        if (cropPadding > 0 && (dx != 0 || dy != 0)) {
            int n = h * w * c;
            System.arraycopy(x, offset, scratch, 0, n);
            // out(r, q) = in(r + dy, q + dx), zero where that falls in the padding.
            for (int r = 0; r < h; r++) {
                int sr = r + dy;
                for (int q = 0; q < w; q++) {
                    int sq = q + dx;
                    int o = offset + (r * w + q) * c;
                    if (sr < 0 || sr >= h || sq < 0 || sq >= w) {
                        for (int k = 0; k < c; k++) x[o + k] = 0f;
                    } else {
                        System.arraycopy(scratch, (sr * w + sq) * c, x, o, c);
                    }
                }
            }
        }
        if (brightness > 0f) {
            int end = offset + h * w * c;
            for (int i = offset; i < end; i++) x[i] += delta;
        }
    }
}
