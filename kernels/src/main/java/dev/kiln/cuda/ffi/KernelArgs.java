package dev.kiln.cuda.ffi;

import java.util.Arrays;

/**
 * The by-value arguments of one kernel launch, in order, each with its width: what
 * cuLaunchKernel's {@code void** kernelParams} points at. Pointers are device addresses.
 * Reusable: {@link #clear()} keeps the arrays, so a launcher builds no garbage per launch.
 *
 * <pre>{@code
 * KernelArgs args = KernelArgs.of().pointer(x).pointer(y).f32(0.5f).i64(n);
 * }</pre>
 */
public final class KernelArgs {
    /** How an argument is passed; the emulator checks it against the kernel's .param declaration. */
    public enum Kind {
        I32(4), I64(8), F32(4), F64(8), POINTER(8);
        public final int bytes;
        Kind(int bytes) { this.bytes = bytes; }
    }

    private Kind[] kinds = new Kind[8];
    private long[] bits = new long[8];
    private int size;

    public static KernelArgs of() { return new KernelArgs(); }

    public KernelArgs pointer(long devicePointer) { return add(Kind.POINTER, devicePointer); }
    public KernelArgs i32(int v) { return add(Kind.I32, v); }
    public KernelArgs i64(long v) { return add(Kind.I64, v); }
    public KernelArgs f32(float v) { return add(Kind.F32, Float.floatToRawIntBits(v)); }
    public KernelArgs f64(double v) { return add(Kind.F64, Double.doubleToRawLongBits(v)); }

    public KernelArgs clear() { size = 0; return this; }

    public int size() { return size; }
    public Kind kind(int i) { check(i); return kinds[i]; }
    /** The argument's bits: an int or float's in the low 32 bits, a double's raw long bits. */
    public long bits(int i) { check(i); return bits[i]; }

    private KernelArgs add(Kind kind, long value) {
        if (size == kinds.length) {
            kinds = Arrays.copyOf(kinds, size * 2);
            bits = Arrays.copyOf(bits, size * 2);
        }
        kinds[size] = kind;
        bits[size++] = value;
        return this;
    }

    private void check(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("kernel argument " + i + " of " + size);
    }
}
