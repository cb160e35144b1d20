package dev.kiln.data;

/**
 * SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA'14):
 * a tiny seeded generator kept as one mutable long so shuffles and augmentation draw numbers
 * without allocating. {@link #mix} derives independent streams from (seed, epoch, batch).
 */
final class SplitMix {
    private long state;

    SplitMix(long seed) { this.state = seed; }

    void reseed(long seed) { this.state = seed; }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A stream key for (seed, a, b): distinct keys for distinct epochs and batch indices. */
    static long key(long seed, long a, long b) {
        return mix(mix(mix(seed) + a * 0x9E3779B97F4A7C15L) + b);
    }

    long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return mix(state);
    }

    /** Uniform in [0, bound), bound > 0; Lemire's multiply-shift with rejection, so unbiased. */
    int nextInt(int bound) {
        long m = (nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound;
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /** Uniform float in [0, 1). */
    float nextFloat() { return (nextLong() >>> 40) * 0x1.0p-24f; }

    /** Fisher–Yates shuffle of {@code perm}, which is first reset to the identity. */
    void permutation(int[] perm) {
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        for (int i = perm.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
        }
    }
}
