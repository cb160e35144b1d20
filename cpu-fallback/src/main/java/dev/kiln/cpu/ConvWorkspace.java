package dev.kiln.cpu;

/**
 * Scratch memory shared by the convolution kernels of one program: they run one after another, so one array
 * sized for the largest of them serves all (padded inputs, packed filters, partial filter gradients). Kernels
 * reserve their size when prepared and read {@link #data()} at each call, so the array is allocated at
 * preparation, never while a program runs. One caller at a time.
 */
public final class ConvWorkspace {
    private float[] data = new float[0];

    /** Grows the array to at least {@code floats}; call at preparation only. */
    public void reserve(long floats) {
        if (floats > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("a convolution workspace of " + floats + " floats exceeds one Java array");
        if (floats > data.length) data = new float[(int) floats];
    }

    public float[] data() { return data; }

    /** Floats held: the figure a memory budget counts. */
    public int size() { return data.length; }
}
