package dev.kiln.cpu;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Where a heap array's data lies in memory right now, so that a kernel can start its vector loads on a cache line.
 *
 * <p>Why: a 512-bit load that crosses a 64-byte line costs two on Zen 4. A 1×256×512 thin GEMM with B in L2 was
 * measured at 8.3 µs with B's rows starting 16 bytes into a line, 7.2 µs at 32 and 5.7 µs on the line. Java gives no
 * control over array alignment (G1 aligns objects to 8 bytes and the header is 16), but the address can be read: a
 * critical downcall may be handed heap segments, and {@code memmove(dst, src, 0)} touches nothing and returns dst,
 * the address of the array data as the call sees it (6-15 ns on JDK 25).
 *
 * <p>The GC may move small arrays between calls (humongous ones, like the 1 MiB weights of a 512×512 layer, stay
 * put under G1), so the answer is good for the current call only: ask again on every call, never cache it. A kernel
 * must compute the same values whatever the phase; alignment may change its speed only.
 *
 * <p>Needs native access ({@code --enable-native-access=ALL-UNNAMED}, which the launcher, tests and bench pass).
 * Without it, or without {@code memmove}, every answer is -1 (unknown) and kernels behave as if unaligned; one
 * WARNING through {@link System.Logger} (logger {@code dev.kiln.cpu}) says so, with the fix.
 */
final class Addresses {
    private static final System.Logger LOG = System.getLogger("dev.kiln.cpu");
    private static final int LINE = 64;
    private static final MethodHandle MEMMOVE = lookup();

    private Addresses() {}

    /**
     * Elements of {@code a} from index {@code off} up to the next 64-byte boundary (0 when {@code a[off]} starts
     * a line, 0..15), or -1 when the address is unknown.
     */
    static int floatPhase(float[] a, int off) {
        return MEMMOVE == null ? -1 : floatPhase(MemorySegment.ofArray(a), off);
    }

    /**
     * As {@link #floatPhase(float[], int)} for the segment {@code MemorySegment.ofArray(a)}: a hot caller keeps that
     * segment (it holds the array, not an address, so it stays right when the GC moves the array) and allocates
     * nothing here; {@code ofArray} itself allocates until C2 has compiled and inlined the call.
     */
    static int floatPhase(MemorySegment s, int off) {
        if (MEMMOVE == null) return -1;
        long addr;
        try {
            addr = (long) MEMMOVE.invokeExact(s, s, 0L);
        } catch (Throwable t) {
            return -1;
        }
        long at = addr + 4L * off;
        if ((at & 3) != 0) return -1;
        return (int) (((LINE - (at & (LINE - 1))) & (LINE - 1)) >>> 2);
    }

    private static MethodHandle lookup() {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle mm = linker.defaultLookup().find("memmove")
                    .map(f -> linker.downcallHandle(f,
                            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG),
                            Linker.Option.critical(true)))
                    .orElse(null);
            if (mm == null) {
                LOG.log(System.Logger.Level.WARNING, "memmove not found in the C library; GEMV loads are not aligned to cache lines (correct, up to 1.5x slower)");
                return null;
            }
            // one real call here, so that denied native access shows now, not in a kernel
            float[] probe = new float[1];
            MemorySegment s = MemorySegment.ofArray(probe);
            long unused = (long) mm.invokeExact(s, s, 0L);
            return mm;
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "array addresses unavailable (" + t + "); GEMV loads are not aligned to cache lines "
                    + "(correct, up to 1.5x slower); run java with --enable-native-access=ALL-UNNAMED");
            return null;
        }
    }
}
