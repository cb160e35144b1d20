package dev.kiln.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tile under every packed product of this package: {@link Gemm}, the implicit-GEMM convolutions
 * ({@link ConvForwardGemm}, {@link ConvFilterGemm}) and {@link WinogradConv}'s sixteen GEMMs.
 * C[r, 0..cols) (+)= Σ_{p in [p0, p1)} A[r, p] · B[p, 0..NR) on MR rows × NR = 2 vectors (12 FMA accumulators;
 * {@link #tile12}: 12 rows, 24 accumulators).
 *
 * <p>One addressing scheme serves all of them. Row r of A starts at {@code o_r}; step p reads {@code a[o_r + at[p]]}.
 * B's row p is {@code b[ib + (p − p0)·ldb ..]}, NR wide: a packed sliver (ldb = NR) or a matrix read in place.
 * The callers differ only in what the offsets mean: a convolution's output pixels (o_r = a window start, at = the
 * filter taps' offsets from it: {@link ConvForwardGemm}); the filter gradient's filter rows (o_r = a tap's offset,
 * at = the pixels' window starts: {@link ConvFilterGemm}); GEMM rows (o_r = ia + r·lda, at[p] = p, B packed:
 * {@link Gemm}, and {@link WinogradConv} on V's rows), which {@link #packed} serves as a measured specialisation.
 *
 * <p>The accumulators stay in each kernel's locals: C2 boxes vectors passed between methods it does not inline,
 * so neither the FMA loop nor the store is split into helpers. Two store helpers were tried: a six-row one
 * (98 bytecodes) ran GEMM 512 on one thread at 7 GFLOP/s instead of 39-63 (one run on a busy 2-core machine;
 * "failed to inline: too big" under -XX:+PrintInlining), and a one-vector helper (26 bytecodes, under MaxInlineSize) still lost the last stores of
 * {@link #packed} to "NodeCountInliningCutoff", boxing them. So each kernel writes its store out, once: a full tile
 * goes to C, an edge tile (rows < MR or cols < NR) to {@code spill} (MR·NR floats; 12·NR for {@link #tile12})
 * through the same lines, and {@link #storeEdge} (no vectors) stores its corner, so the hot loop has no masks.
 * A must have all MR (12) rows readable (callers repeat their last row or zero-pad).
 *
 * <p>What remains written three times is the FMA loop, once per addressing: {@link #tile} (any offsets, one
 * indirection a step), {@link #packed} (consecutive rows, no indirection) and {@link #tile12} (twelve rows). The
 * two specialised copies stay only while they measure faster than the shared tile: {@code -Dkiln.cpu.microkernel
 * =shared} routes their callers through {@link #tile}, and {@code ./kiln bench --microkernel-ab} times both
 * (bench/README.md, "Micro-kernel A/B"); delete a copy whose ratio is within noise.
 */
final class MicroKernel {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int VL = SPECIES.length();
    static final int MR = 6;
    static final int NR = 2 * VL;

    /** The system property that picks the variant: {@value #SPECIALISED} (the default) or {@value #SHARED_FORM}. */
    static final String PROPERTY = "kiln.cpu.microkernel";
    static final String SPECIALISED = "specialised", SHARED_FORM = "shared";
    /**
     * {@code -Dkiln.cpu.microkernel=shared}: every caller runs the shared {@link #tile} ({@link #packed}'s callers
     * through {@link #ROWS} as the steps, {@link ConvFilterGemm} with 6 rows instead of {@link #tile12}), for the
     * A/B that decides whether each specialised copy pays (bench: {@code ./kiln bench --microkernel-ab}). Read once:
     * static final, so C2 folds the branch away.
     */
    static final boolean SHARED = shared(System.getProperty(PROPERTY, SPECIALISED));
    /** at[p] = p for the shared form of {@link #packed}: K slices up to 65536 (Gemm's are 512, Winograd's cin). */
    private static final int[] ROWS = identity(SHARED ? 1 << 16 : 0);

    private MicroKernel() {}

    private static boolean shared(String variant) {
        return switch (variant.trim()) {
            case SPECIALISED -> false;
            case SHARED_FORM -> {
                System.getLogger("dev.kiln.cpu").log(System.Logger.Level.INFO,
                        "CPU micro-kernel: the shared tile everywhere, forced by -D" + PROPERTY + "=" + SHARED_FORM + " (an A/B setting; slower where the specialised copies pay)");
                yield true;
            }
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + variant + " is not a micro-kernel variant; use "
                    + SPECIALISED + " (the default) or " + SHARED_FORM);
        };
    }

    private static int[] identity(int n) {
        int[] at = new int[n];
        for (int p = 0; p < n; p++) at[p] = p;
        return at;
    }

    /** The MR × NR tile; see the class comment for the addressing. */
    static void tile(int p0, int p1, float[] a, int[] at, int o0, int o1, int o2, int o3, int o4, int o5,
                     float[] b, int ib, int ldb, float[] c, int ic, int ldc, int rows, int cols, boolean add, float[] spill) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int p = p0; p < p1; p++, ib += ldb) {
            int d = at[p];
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, ib);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, ib + VL);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[o0 + d]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[o1 + d]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[o2 + d]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[o3 + d]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(SPECIES, a[o4 + d]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(SPECIES, a[o5 + d]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        boolean full = rows == MR && cols == NR;
        // a full tile goes to C (added to it when add); an edge tile to spill, NR apart, then its corner to C
        float[] dst = full ? c : spill;
        int ld = full ? ldc : NR, r0 = full ? ic : 0, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld, r4 = r3 + ld, r5 = r4 + ld;
        if (full && add) {
            c00 = c00.add(FloatVector.fromArray(SPECIES, c, r0)); c01 = c01.add(FloatVector.fromArray(SPECIES, c, r0 + VL));
            c10 = c10.add(FloatVector.fromArray(SPECIES, c, r1)); c11 = c11.add(FloatVector.fromArray(SPECIES, c, r1 + VL));
            c20 = c20.add(FloatVector.fromArray(SPECIES, c, r2)); c21 = c21.add(FloatVector.fromArray(SPECIES, c, r2 + VL));
            c30 = c30.add(FloatVector.fromArray(SPECIES, c, r3)); c31 = c31.add(FloatVector.fromArray(SPECIES, c, r3 + VL));
            c40 = c40.add(FloatVector.fromArray(SPECIES, c, r4)); c41 = c41.add(FloatVector.fromArray(SPECIES, c, r4 + VL));
            c50 = c50.add(FloatVector.fromArray(SPECIES, c, r5)); c51 = c51.add(FloatVector.fromArray(SPECIES, c, r5 + VL));
        }
        c00.intoArray(dst, r0); c01.intoArray(dst, r0 + VL);
        c10.intoArray(dst, r1); c11.intoArray(dst, r1 + VL);
        c20.intoArray(dst, r2); c21.intoArray(dst, r2 + VL);
        c30.intoArray(dst, r3); c31.intoArray(dst, r3 + VL);
        c40.intoArray(dst, r4); c41.intoArray(dst, r4 + VL);
        c50.intoArray(dst, r5); c51.intoArray(dst, r5 + VL);
        if (!full) storeEdge(spill, c, ic, ldc, rows, cols, add);
    }

    /**
     * {@link #tile} with o_r = ia + r·lda, at[p] = p, p0 = 0, p1 = kc and B a packed sliver (ldb = NR): {@link Gemm}
     * (A in place or packed) and {@link WinogradConv} (V's rows). Specialised because, with the row streams' index the
     * only induction variable and B's step a constant, C2 can hoist every range check out of the loop, which the
     * general form's a[o_r + at[p]] does not allow (an earlier measurement, of the loop alone: the general form
     * 1.3-1.6x slower, one thread, L1-resident sliver, kc = 256..512). Whether that pays in GEMM and the models is
     * what {@code ./kiln bench --microkernel-ab} measures (the class comment).
     */
    static void packed(int kc, float[] a, int ia, int lda, float[] b, int ib, float[] c, int ic, int ldc,
                       int rows, int cols, boolean add, float[] spill) {
        if (SHARED) {
            if (kc > ROWS.length) throw new IllegalArgumentException("-D" + PROPERTY + "=" + SHARED_FORM + " handles K slices up to " + ROWS.length + ", got " + kc + "; drop the property");
            tile(0, kc, a, ROWS, ia, ia + lda, ia + 2 * lda, ia + 3 * lda, ia + 4 * lda, ia + 5 * lda, b, ib, NR, c, ic, ldc, rows, cols, add, spill);
            return;
        }
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        // row offsets fixed, d the only induction variable: C2 then hoists the range checks of all six streams
        int o0 = ia, o1 = o0 + lda, o2 = o1 + lda, o3 = o2 + lda, o4 = o3 + lda, o5 = o4 + lda;
        for (int d = 0; d < kc; d++, ib += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, ib);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, ib + VL);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[o0 + d]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[o1 + d]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[o2 + d]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[o3 + d]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(SPECIES, a[o4 + d]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(SPECIES, a[o5 + d]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        boolean full = rows == MR && cols == NR;
        // a full tile goes to C (added to it when add); an edge tile to spill, NR apart, then its corner to C
        float[] dst = full ? c : spill;
        int ld = full ? ldc : NR, r0 = full ? ic : 0, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld, r4 = r3 + ld, r5 = r4 + ld;
        if (full && add) {
            c00 = c00.add(FloatVector.fromArray(SPECIES, c, r0)); c01 = c01.add(FloatVector.fromArray(SPECIES, c, r0 + VL));
            c10 = c10.add(FloatVector.fromArray(SPECIES, c, r1)); c11 = c11.add(FloatVector.fromArray(SPECIES, c, r1 + VL));
            c20 = c20.add(FloatVector.fromArray(SPECIES, c, r2)); c21 = c21.add(FloatVector.fromArray(SPECIES, c, r2 + VL));
            c30 = c30.add(FloatVector.fromArray(SPECIES, c, r3)); c31 = c31.add(FloatVector.fromArray(SPECIES, c, r3 + VL));
            c40 = c40.add(FloatVector.fromArray(SPECIES, c, r4)); c41 = c41.add(FloatVector.fromArray(SPECIES, c, r4 + VL));
            c50 = c50.add(FloatVector.fromArray(SPECIES, c, r5)); c51 = c51.add(FloatVector.fromArray(SPECIES, c, r5 + VL));
        }
        c00.intoArray(dst, r0); c01.intoArray(dst, r0 + VL);
        c10.intoArray(dst, r1); c11.intoArray(dst, r1 + VL);
        c20.intoArray(dst, r2); c21.intoArray(dst, r2 + VL);
        c30.intoArray(dst, r3); c31.intoArray(dst, r3 + VL);
        c40.intoArray(dst, r4); c41.intoArray(dst, r4 + VL);
        c50.intoArray(dst, r5); c51.intoArray(dst, r5 + VL);
        if (!full) storeEdge(spill, c, ic, ldc, rows, cols, add);
    }

    /**
     * {@link #tile} with 12 rows (24 accumulators + 2 B vectors + 1 broadcast: AVX-512's 32 registers), the same
     * addressing. Kept beside the 6-row tile for the filter gradient, where each step brings a new B row and a new
     * window line for 24 FMAs instead of 12 (A/B in {@link ConvFilterGemm}).
     */
    static void tile12(int p0, int p1, float[] a, int[] at, int o0, int o1, int o2, int o3, int o4, int o5,
                       int o6, int o7, int o8, int o9, int o10, int o11,
                       float[] b, int ib, int ldb, float[] c, int ic, int ldc, int rows, int cols, boolean add, float[] spill) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        FloatVector c60 = c00, c61 = c00, c70 = c00, c71 = c00, c80 = c00, c81 = c00;
        FloatVector c90 = c00, c91 = c00, ca0 = c00, ca1 = c00, cb0 = c00, cb1 = c00;
        for (int p = p0; p < p1; p++, ib += ldb) {
            int d = at[p];
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, ib);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, ib + VL);
            FloatVector a0 = FloatVector.broadcast(SPECIES, a[o0 + d]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(SPECIES, a[o1 + d]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(SPECIES, a[o2 + d]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(SPECIES, a[o3 + d]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(SPECIES, a[o4 + d]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(SPECIES, a[o5 + d]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
            FloatVector a6 = FloatVector.broadcast(SPECIES, a[o6 + d]);
            c60 = a6.fma(b0, c60);
            c61 = a6.fma(b1, c61);
            FloatVector a7 = FloatVector.broadcast(SPECIES, a[o7 + d]);
            c70 = a7.fma(b0, c70);
            c71 = a7.fma(b1, c71);
            FloatVector a8 = FloatVector.broadcast(SPECIES, a[o8 + d]);
            c80 = a8.fma(b0, c80);
            c81 = a8.fma(b1, c81);
            FloatVector a9 = FloatVector.broadcast(SPECIES, a[o9 + d]);
            c90 = a9.fma(b0, c90);
            c91 = a9.fma(b1, c91);
            FloatVector aa = FloatVector.broadcast(SPECIES, a[o10 + d]);
            ca0 = aa.fma(b0, ca0);
            ca1 = aa.fma(b1, ca1);
            FloatVector ab = FloatVector.broadcast(SPECIES, a[o11 + d]);
            cb0 = ab.fma(b0, cb0);
            cb1 = ab.fma(b1, cb1);
        }
        boolean full = rows == 2 * MR && cols == NR;
        // a full tile goes to C (added to it when add); an edge tile to spill, NR apart, then its corner to C
        float[] dst = full ? c : spill;
        int ld = full ? ldc : NR, r0 = full ? ic : 0, r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld, r4 = r3 + ld, r5 = r4 + ld;
        int r6 = r5 + ld, r7 = r6 + ld, r8 = r7 + ld, r9 = r8 + ld, ra = r9 + ld, rb = ra + ld;
        if (full && add) {
            c00 = c00.add(FloatVector.fromArray(SPECIES, c, r0)); c01 = c01.add(FloatVector.fromArray(SPECIES, c, r0 + VL));
            c10 = c10.add(FloatVector.fromArray(SPECIES, c, r1)); c11 = c11.add(FloatVector.fromArray(SPECIES, c, r1 + VL));
            c20 = c20.add(FloatVector.fromArray(SPECIES, c, r2)); c21 = c21.add(FloatVector.fromArray(SPECIES, c, r2 + VL));
            c30 = c30.add(FloatVector.fromArray(SPECIES, c, r3)); c31 = c31.add(FloatVector.fromArray(SPECIES, c, r3 + VL));
            c40 = c40.add(FloatVector.fromArray(SPECIES, c, r4)); c41 = c41.add(FloatVector.fromArray(SPECIES, c, r4 + VL));
            c50 = c50.add(FloatVector.fromArray(SPECIES, c, r5)); c51 = c51.add(FloatVector.fromArray(SPECIES, c, r5 + VL));
            c60 = c60.add(FloatVector.fromArray(SPECIES, c, r6)); c61 = c61.add(FloatVector.fromArray(SPECIES, c, r6 + VL));
            c70 = c70.add(FloatVector.fromArray(SPECIES, c, r7)); c71 = c71.add(FloatVector.fromArray(SPECIES, c, r7 + VL));
            c80 = c80.add(FloatVector.fromArray(SPECIES, c, r8)); c81 = c81.add(FloatVector.fromArray(SPECIES, c, r8 + VL));
            c90 = c90.add(FloatVector.fromArray(SPECIES, c, r9)); c91 = c91.add(FloatVector.fromArray(SPECIES, c, r9 + VL));
            ca0 = ca0.add(FloatVector.fromArray(SPECIES, c, ra)); ca1 = ca1.add(FloatVector.fromArray(SPECIES, c, ra + VL));
            cb0 = cb0.add(FloatVector.fromArray(SPECIES, c, rb)); cb1 = cb1.add(FloatVector.fromArray(SPECIES, c, rb + VL));
        }
        c00.intoArray(dst, r0); c01.intoArray(dst, r0 + VL);
        c10.intoArray(dst, r1); c11.intoArray(dst, r1 + VL);
        c20.intoArray(dst, r2); c21.intoArray(dst, r2 + VL);
        c30.intoArray(dst, r3); c31.intoArray(dst, r3 + VL);
        c40.intoArray(dst, r4); c41.intoArray(dst, r4 + VL);
        c50.intoArray(dst, r5); c51.intoArray(dst, r5 + VL);
        c60.intoArray(dst, r6); c61.intoArray(dst, r6 + VL);
        c70.intoArray(dst, r7); c71.intoArray(dst, r7 + VL);
        c80.intoArray(dst, r8); c81.intoArray(dst, r8 + VL);
        c90.intoArray(dst, r9); c91.intoArray(dst, r9 + VL);
        ca0.intoArray(dst, ra); ca1.intoArray(dst, ra + VL);
        cb0.intoArray(dst, rb); cb1.intoArray(dst, rb + VL);
        if (!full) storeEdge(spill, c, ic, ldc, rows, cols, add);
    }

    /** Writes (or adds) the rows×cols corner of a register tile spilled to {@code spill} (rows NR apart) into C. */
    static void storeEdge(float[] spill, float[] c, int ic, int ldc, int rows, int cols, boolean add) {
        for (int r = 0; r < rows; r++) {
            int row = ic + r * ldc;
            if (!add) { System.arraycopy(spill, r * NR, c, row, cols); continue; }
            for (int j = 0; j < cols; j++) c[row + j] += spill[r * NR + j];
        }
    }
}
