package dev.kiln.tensor;

/**
 * Element types. Only {@link #F32} is executed today; the others are declared so that
 * graphs, files and the CUDA backend can name them. Asking a backend for an undeclared
 * path fails with {@link #requireSupported(String)}.
 */
public enum DType {
    F32(4), F16(2), BF16(2), I32(4);

    private final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    public int bytes() { return bytes; }

    public boolean executable() { return this == F32; }

    /** Throws naming the dtype and the place that needed it, when it is not executable yet. */
    public void requireSupported(String where) {
        if (!executable()) {
            throw new UnsupportedOperationException(where + ": dtype " + this
                    + " is declared but not executable yet; use F32");
        }
    }
}
