package dev.kiln.graph;

/**
 * Spatial padding of a convolution or pooling window. SAME and VALID follow Keras/TensorFlow
 * (SAME pads so that out = ceil(in / stride), the extra row or column going to the bottom/right);
 * {@link #explicit} gives fixed amounts, as PyTorch's {@code padding=} does.
 */
public record Padding(Mode mode, int top, int bottom, int left, int right) {
    public enum Mode { SAME, VALID, EXPLICIT }

    public static final Padding SAME = new Padding(Mode.SAME, 0, 0, 0, 0);
    public static final Padding VALID = new Padding(Mode.VALID, 0, 0, 0, 0);

    public Padding {
        if (top < 0 || bottom < 0 || left < 0 || right < 0) throw new IllegalArgumentException("negative padding");
    }

    public static Padding explicit(int top, int bottom, int left, int right) { return new Padding(Mode.EXPLICIT, top, bottom, left, right); }

    public static Padding symmetric(int ph, int pw) { return explicit(ph, ph, pw, pw); }

    @Override public String toString() {
        return mode == Mode.EXPLICIT ? "pad(" + top + "," + bottom + "," + left + "," + right + ")" : mode.name().toLowerCase();
    }
}
