package dev.kiln.data;

/**
 * How to cut a {@link Dataset} into mini-batches: a value with withers; {@link #open()} makes the
 * stateful {@link Loader}.
 *
 * <pre>{@code
 * try (Loader loader = Batches.of(train, 64).withSeed(7).withPrefetch(true).open()) {
 *     for (int epoch = 0; epoch < 10; epoch++)
 *         for (Batch b : loader.epoch(epoch)) step(b.features(), b.labels(), b.size());
 * }
 * }</pre>
 *
 * Shuffling is a seeded permutation per epoch (the epoch number is mixed into the seed), so runs
 * repeat exactly and every example appears once per epoch.
 *
 * @param dropLast drop the last, partial batch of an epoch instead of yielding it short
 * @param prefetch fill the next batch on a background daemon thread while the caller works on this one
 * @param augment  image augmentation per example (features must be NHWC [N, H, W, C])
 */
public record Batches(Dataset data, int batchSize, boolean shuffle, long seed, boolean dropLast, boolean prefetch, Augment augment) {
    public Batches {
        if (batchSize < 1) throw new IllegalArgumentException("batch size " + batchSize + " must be >= 1");
        if (dropLast && data.size() < batchSize)
            throw new IllegalArgumentException("dropping the last partial batch of " + data.size() + " examples with batch size "
                    + batchSize + " leaves no batch at all; use a smaller batch size or keep the last batch");
        if (!augment.isNone() && data.inputCount() != 1)
            throw new IllegalArgumentException("augmentation works on a dataset of one image input, this one has " + data.inputCount() + " inputs " + data.inputNames()
                    + "; augment the images before building the Dataset");
        if (!augment.isNone() && data.featureShape().rank() != 4)
            throw new IllegalArgumentException("augmentation needs NHWC image features [N, H, W, C], not " + data.featureShape());
    }

    /** Shuffled with seed 0, last batch kept, no prefetch, no augmentation. */
    public static Batches of(Dataset data, int batchSize) {
        return new Batches(data, batchSize, true, 0L, false, false, Augment.none());
    }

    public Batches withSeed(long seed) { return new Batches(data, batchSize, shuffle, seed, dropLast, prefetch, augment); }

    public Batches withShuffle(boolean shuffle) { return new Batches(data, batchSize, shuffle, seed, dropLast, prefetch, augment); }

    public Batches withDropLast(boolean dropLast) { return new Batches(data, batchSize, shuffle, seed, dropLast, prefetch, augment); }

    public Batches withPrefetch(boolean prefetch) { return new Batches(data, batchSize, shuffle, seed, dropLast, prefetch, augment); }

    public Batches withAugment(Augment augment) { return new Batches(data, batchSize, shuffle, seed, dropLast, prefetch, augment); }

    public int batchesPerEpoch() {
        int n = data.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** A loader over these batches; close it to stop its prefetch thread. */
    public Loader open() { return new Loader(this); }
}
