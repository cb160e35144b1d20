package dev.kiln.cuda;

import dev.kiln.cuda.ConvAlgorithms.Choice;
import dev.kiln.cuda.ConvAlgorithms.Key;
import dev.kiln.cuda.ConvAlgorithms.Pass;
import dev.kiln.cuda.ConvAlgorithms.Perf;
import dev.kiln.cuda.ffi.Cudnn;
import dev.kiln.graph.Conv2d;
import dev.kiln.graph.ConvGeometry;
import dev.kiln.graph.Padding;
import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pure-Java half of the cuDNN convolution path, which runs without cuDNN: the descriptor numbers
 * ({@link CudnnConvPlan}), the route between cuDNN and Kiln's own kernels ({@link ConvRoute}), the algorithm pick and
 * its per-shape cache ({@link ConvAlgorithms}), and the shared workspace's layout ({@link ConvWorkspace}). The cuDNN
 * calls themselves ({@link CudnnConvolutions}) are unverified on hardware.
 */
class CudnnConvPathTest {
    private static ConvGeometry geometry(int n, int h, int w, int c, int k, int f, int stride, Padding padding, int dilation, int groups) {
        return new Conv2d(stride, stride, padding, dilation, dilation, groups).geometry(Shape.of(n, h, w, c), Shape.of(k, k, c / groups, f));
    }

    @Test
    void descriptorNumbersComeFromTheGeometry() {
        CudnnConvPlan p = new CudnnConvPlan(geometry(8, 28, 27, 6, 3, 16, 2, Padding.SAME, 1, 2));
        assertArrayEquals(new int[] {8, 6, 28, 27}, p.input());
        assertArrayEquals(new int[] {8, 16, 14, 14}, p.output());
        assertArrayEquals(new int[] {16, 3, 3, 3}, p.filter(), "k = F, c = C / groups");
        assertArrayEquals(new int[] {0, 1, 2, 2, 1, 1}, p.convolution(), "SAME, stride 2: h 28 pads 1 in all (at the bottom), w 27 pads 2 (1 each side)");
        assertArrayEquals(new int[] {1, 16, 1, 1}, p.bias());
        assertEquals(4L * 3 * 3 * 3 * 16, p.filterBytes());
    }

    @Test
    void theTwoFilterViewsAddressHwioAndKrscOfTheSameElement() {
        ConvGeometry g = geometry(1, 9, 9, 6, 3, 4, 1, Padding.SAME, 1, 2);   // 3x3, 3 channels per group, 4 filters
        CudnnConvPlan p = new CudnnConvPlan(g);
        int[] hwio = p.hwioStrides(), krsc = p.krscStrides();
        int kh = g.kh(), kw = g.kw(), cg = g.inChannelsPerGroup(), f = g.f();
        Set<Integer> seenHwio = new HashSet<>(), seenKrsc = new HashSet<>();
        for (int fo = 0; fo < f; fo++) for (int ci = 0; ci < cg; ci++) for (int ky = 0; ky < kh; ky++) for (int kx = 0; kx < kw; kx++) {
            int[] at = {fo, ci, ky, kx};
            int h = dot(at, hwio), k = dot(at, krsc);
            assertEquals(((ky * kw + kx) * cg + ci) * f + fo, h, "HWIO offset of " + java.util.Arrays.toString(at));
            assertEquals(((fo * kh + ky) * kw + kx) * cg + ci, k, "KRSC offset of " + java.util.Arrays.toString(at));
            seenHwio.add(h);
            seenKrsc.add(k);
        }
        assertEquals(kh * kw * cg * f, seenHwio.size(), "HWIO view covers the filter once");
        assertEquals(kh * kw * cg * f, seenKrsc.size(), "KRSC view covers the filter once");
    }

    private static int dot(int[] a, int[] b) {
        int s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    @Test
    void cudnnTakesAGeometryOnlyWhenSymmetricPaddingGivesKilnsOutput() {
        assertTrue(new CudnnConvPlan(geometry(1, 8, 8, 3, 3, 4, 1, Padding.SAME, 1, 1)).fits(), "3x3 SAME stride 1: 1 each side");
        assertTrue(new CudnnConvPlan(geometry(1, 7, 7, 3, 3, 4, 2, Padding.SAME, 1, 1)).fits(), "3x3 SAME stride 2, odd input: 1 each side");
        assertTrue(new CudnnConvPlan(geometry(1, 9, 8, 3, 3, 4, 2, Padding.VALID, 1, 1)).fits(), "VALID with a leftover column");
        assertTrue(new CudnnConvPlan(geometry(1, 7, 7, 4, 3, 6, 1, Padding.SAME, 2, 2)).fits(), "dilation 2 SAME: 2 each side");
        assertFalse(new CudnnConvPlan(geometry(1, 8, 8, 3, 3, 4, 2, Padding.SAME, 1, 1)).fits(), "3x3 SAME stride 2, even input: 0 top, 1 bottom");
        assertFalse(new CudnnConvPlan(geometry(1, 6, 6, 3, 2, 4, 1, Padding.SAME, 1, 1)).fits(), "2x2 SAME: 0 top, 1 bottom");
        assertFalse(new CudnnConvPlan(geometry(1, 5, 5, 3, 3, 4, 1, Padding.explicit(1, 2, 1, 1), 1, 1)).fits(), "explicit 1 top, 2 bottom");
    }

    @Test
    void theRouteSaysWhyAConvolutionRunsOnKilnsOwnKernels() {
        ConvGeometry even = geometry(1, 8, 8, 3, 3, 4, 2, Padding.SAME, 1, 1), odd = geometry(1, 7, 7, 3, 3, 4, 2, Padding.SAME, 1, 1);
        ConvRoute absent = ConvRoute.choose(odd, false);
        assertFalse(absent.cudnn());
        assertTrue(absent.reason().contains("cuDNN 9 is not loaded"), absent.reason());
        ConvRoute asymmetric = ConvRoute.choose(even, true);
        assertFalse(asymmetric.cudnn());
        assertTrue(asymmetric.reason().contains("asymmetric"), asymmetric.reason());
        assertTrue(ConvRoute.choose(odd, true).cudnn());
        String before = System.getProperty(ConvRoute.PROPERTY);
        try {
            System.setProperty(ConvRoute.PROPERTY, "off");
            assertFalse(ConvRoute.enabled());
            System.setProperty(ConvRoute.PROPERTY, "on");
            assertTrue(ConvRoute.enabled());
        } finally {
            if (before == null) System.clearProperty(ConvRoute.PROPERTY); else System.setProperty(ConvRoute.PROPERTY, before);
        }
    }

    private static Perf perf(int algo, int status, long memory, int determinism) {
        return new Perf(algo, status, 1f, memory, determinism, Cudnn.CUDNN_FMA_MATH);
    }

    @Test
    void thePickIsTheFirstSuccessfulDeterministicAlgorithmWithinTheWorkspaceLimit() {
        int ok = Cudnn.CUDNN_STATUS_SUCCESS, det = Cudnn.CUDNN_DETERMINISTIC, nondet = Cudnn.CUDNN_NON_DETERMINISTIC;
        List<Perf> candidates = List.of(perf(7, 9, 0, det), perf(0, ok, 0, nondet), perf(6, ok, 1L << 31, det), perf(1, ok, 4096, det), perf(2, ok, 0, det));
        Choice c = ConvAlgorithms.pick(candidates, 1L << 30, "heuristic").orElseThrow();
        assertEquals(1, c.algo(), "failed, non-deterministic (atomics) and too-large candidates are passed over");
        assertEquals(4096, c.workspaceBytes());
        assertEquals("heuristic", c.how());
        assertEquals(Optional.empty(), ConvAlgorithms.pick(List.of(perf(0, ok, 0, nondet), perf(3, 8, 0, det)), 1L << 30, "measured"));
    }

    @Test
    void perfRecordsAreReadAtTheHeadersOffsets() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment records = arena.allocate(2L * Cudnn.ALGO_PERF_BYTES, 8);
            long at = Cudnn.ALGO_PERF_BYTES;   // the second record
            records.set(JAVA_INT, at, 5);
            records.set(JAVA_INT, at + 4, Cudnn.CUDNN_STATUS_SUCCESS);
            records.set(JAVA_FLOAT, at + 8, 0.25f);
            records.set(JAVA_LONG, at + 16, 123_456_789_012L);
            records.set(JAVA_INT, at + 24, Cudnn.CUDNN_DETERMINISTIC);
            records.set(JAVA_INT, at + 28, Cudnn.CUDNN_TENSOR_OP_MATH);
            records.set(JAVA_INT, 0, 2);
            List<Perf> all = Perf.readAll(records, 2);
            assertEquals(new Perf(5, 0, 0.25f, 123_456_789_012L, Cudnn.CUDNN_DETERMINISTIC, Cudnn.CUDNN_TENSOR_OP_MATH), all.get(1));
            assertEquals(2, all.get(0).algo());
        }
    }

    @Test
    void eachShapeAsksCudnnOnceAndEqualGeometriesShareTheCachedChoice() {
        ConvAlgorithms algorithms = new ConvAlgorithms(1L << 30, "measured");
        int[] calls = {0};
        ConvAlgorithms.Candidates fake = k -> {
            calls[0]++;
            return k.geometry().n() == 3 ? List.of() : List.of(perf(k.pass().ordinal(), 0, 64, Cudnn.CUDNN_DETERMINISTIC));
        };
        int math = Cudnn.CUDNN_FMA_MATH;
        Key a = new Key(Pass.FORWARD, geometry(2, 9, 9, 3, 3, 4, 1, Padding.SAME, 1, 1), math);
        Key same = new Key(Pass.FORWARD, geometry(2, 9, 9, 3, 3, 4, 1, Padding.SAME, 1, 1), math);
        assertEquals(0, algorithms.choose(a, fake).orElseThrow().algo());
        assertEquals(algorithms.choose(a, fake), algorithms.choose(same, fake));
        assertEquals(1, calls[0], "an equal geometry is a cache hit");
        assertEquals(2, algorithms.choose(new Key(Pass.BACKWARD_FILTER, a.geometry(), math), fake).orElseThrow().algo(), "another pass is another key");
        Key otherBatch = new Key(Pass.FORWARD, geometry(3, 9, 9, 3, 3, 4, 1, Padding.SAME, 1, 1), math);
        assertEquals(Optional.empty(), algorithms.choose(otherBatch, fake));
        assertEquals(Optional.empty(), algorithms.choose(otherBatch, fake), "no fitting algorithm is cached too");
        assertEquals(3, calls[0]);
        assertEquals(3, algorithms.asked());
        assertEquals(3, algorithms.size());
    }

    @Test
    void theWorkspaceHoldsTheLargestFilterAndAlgorithmNeedAligned() {
        ConvWorkspace ws = new ConvWorkspace();
        assertEquals(0, ws.address(), "unused: no workspace");
        assertEquals(256, ws.require(100, 1000));
        assertEquals(512, ws.require(300, 10));
        assertEquals(1256, ws.bytes(), "max(256 + 1000, 512 + 10)");
        assertThrows(IllegalStateException.class, ws::address);
        ws.bind(0x7000_0000L);
        assertEquals(0x7000_0000L, ws.address());
    }
}
