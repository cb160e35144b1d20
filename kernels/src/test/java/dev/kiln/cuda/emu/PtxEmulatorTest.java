package dev.kiln.cuda.emu;

import dev.kiln.cuda.CudaException;
import dev.kiln.cuda.ffi.KernelArgs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static dev.kiln.cuda.emu.EmulatedDevice.launch;
import static dev.kiln.cuda.emu.EmulatedDevice.upload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The emulator itself: each PTX feature our kernels use, run from nvcc's real output and checked against Java. */
class PtxEmulatorTest {
    private EmulatedDriver cuda;
    private long module;

    @BeforeEach void load() throws IOException {
        assumeTrue(Nvcc.find().isPresent(), Nvcc.ABSENT);
        String source;
        try (InputStream in = PtxEmulatorTest.class.getResourceAsStream("emulator_selftest.cu")) {
            source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        cuda = new EmulatedDriver();
        cuda.init();
        module = cuda.moduleLoadData(Nvcc.ptx("emulator_selftest", source));
    }

    @AfterEach void close() { if (cuda != null) cuda.close(); }

    @Test
    void sharedMemoryTreeAndWarpShufflesSumEachBlockInTheKernelsOrder() {
        long fn = cuda.moduleGetFunction(module, "block_sum");
        for (int n : new int[] {1, 255, 1000}) {
            float[] x = new float[n];
            Random r = new Random(n);
            for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * 1000;
            int blocks = (n + 255) / 256;
            long dx = upload(cuda, x), dout = cuda.memAlloc(4L * blocks);
            launch(cuda, fn, blocks, 256, 0, KernelArgs.of().pointer(dx).pointer(dout).i32(n));
            float[] got = EmulatedDevice.floats(cuda, dout, blocks);
            for (int b = 0; b < blocks; b++) {
                float[] s = new float[256];
                for (int t = 0; t < 256; t++) s[t] = b * 256 + t < n ? x[b * 256 + t] : 0f;
                for (int stride = 128; stride >= 32; stride /= 2) for (int t = 0; t < stride; t++) s[t] += s[t + stride];
                for (int off = 16; off > 0; off /= 2) for (int t = 0; t < 32; t++) if (t + off < 32) s[t] += s[t + off];
                assertEquals(s[0], got[b], "n=" + n + " block " + b + ": the same summation order gives the same bits");
            }
            EmulatedDevice.CASES.incrementAndGet();
        }
    }

    @Test
    void bitFieldInsertMatchesThePtxDefinition() {
        long fn = cuda.moduleGetFunction(module, "bit_insert");
        int n = 90;
        int[] a = new int[n], b = new int[n], pos = new int[n], len = new int[n];
        Random r = new Random(9);
        for (int i = 0; i < n; i++) { a[i] = r.nextInt(); b[i] = r.nextInt(); pos[i] = r.nextInt(40); len[i] = r.nextInt(40); }
        pos[0] = 4; len[0] = 28; pos[1] = 0; len[1] = 0; pos[2] = 31; len[2] = 5; pos[3] = 0x104; len[3] = 0x203; // only the low 8 bits count
        long da = upload(cuda, a), db = upload(cuda, b), dp = upload(cuda, pos), dl = upload(cuda, len), dout = cuda.memAlloc(4L * n);
        launch(cuda, fn, 3, 32, 0, KernelArgs.of().pointer(da).pointer(db).pointer(dp).pointer(dl).pointer(dout).i32(n));
        int[] got = EmulatedDevice.ints(cuda, dout, n);
        for (int i = 0; i < n; i++) {
            // PTX ISA: f = b; for (i = 0; i < len && pos + i <= msb; ++i) f[pos + i] = a[i], with pos and len their low 8 bits
            int p = pos[i] & 0xff, l = len[i] & 0xff, f = b[i];
            for (int k = 0; k < l && p + k <= 31; k++) f = (f & ~(1 << (p + k))) | (((a[i] >>> k) & 1) << (p + k));
            assertEquals(f, got[i], "bfi of a=" + a[i] + ", b=" + b[i] + ", pos " + pos[i] + ", len " + len[i]);
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    @Test
    void integerDivisionShiftsMinMaxAndMultiplyHighMatchJava() {
        long fn = cuda.moduleGetFunction(module, "int_mix");
        int n = 77;
        int[] a = new int[n], b = new int[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i++) { a[i] = r.nextInt(); b[i] = i % 5 == 0 ? 0 : r.nextInt(2001) - 1000; }
        a[1] = Integer.MIN_VALUE + 1; a[2] = 0; a[3] = -1;
        long da = upload(cuda, a), db = upload(cuda, b), dout = cuda.memAlloc(8L * 5 * n);
        launch(cuda, fn, 3, 32, 0, KernelArgs.of().pointer(da).pointer(db).pointer(dout).i32(n));
        long[] got = EmulatedDevice.longs(cuda, dout, 5 * n);
        for (int i = 0; i < n; i++) {
            int x = a[i], y = b[i];
            long wide = (long) x * y;
            long[] want = {
                    y != 0 ? x / y : 0,
                    y != 0 ? x % y : 0,
                    Integer.toUnsignedLong((x >>> 3) ^ (y << 2)) + (Integer.compareUnsigned(x, y) > 0 ? 1 : 0),
                    Math.max(x, y) - Math.min(x, y),
                    Math.multiplyHigh(wide, 0x123456789L) + Integer.bitCount(x) + Integer.numberOfLeadingZeros(x)};
            for (int k = 0; k < 5; k++) assertEquals(want[k], got[5 * i + k], "element " + i + " output " + k + " (a=" + x + ", b=" + y + ")");
        }
        EmulatedDevice.CASES.incrementAndGet();
    }

    @Test
    void doublesConversionsDynamicSharedMemoryAndAtomicsMatchJava() {
        long fn = cuda.moduleGetFunction(module, "double_mix");
        double[] a = {0.0, -0.0, 2.5, -2.5, 3.5, 1e-3, -7.25, 1e300, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                123456.789, -0.49999999999999994, 0x1p-1074, 16777217.0};
        int n = a.length;
        long da = upload(cuda, a), df = cuda.memAlloc(4L * n), di = cuda.memAlloc(4L * n), dd = cuda.memAlloc(8L * n), dc = upload(cuda, new int[1]);
        launch(cuda, fn, 2, 8, 8 * 8, KernelArgs.of().pointer(da).pointer(df).pointer(di).pointer(dd).pointer(dc).i32(n));
        float[] f = EmulatedDevice.floats(cuda, df, n);
        int[] iv = EmulatedDevice.ints(cuda, di, n);
        double[] d = EmulatedDevice.doubles(cuda, dd, n);
        for (int i = 0; i < n; i++) {
            double v = a[i];
            assertEquals(Math.fma(v, 3.0, -1.0) / 7.0 + Math.sqrt(Math.abs(v)), d[i], 0.0, "double at " + v);
            assertEquals(Float.floatToRawIntBits((float) v), Float.floatToRawIntBits(f[i]), "float of " + v);
            assertEquals((int) Math.rint(v) + (int) Math.floor((float) v) + (int) v, iv[i], "ints of " + v);
        }
        assertEquals(n, EmulatedDevice.ints(cuda, dc, 1)[0], "one atomicAdd per live thread");
        EmulatedDevice.CASES.incrementAndGet();
    }

    @Test
    void anInstructionTheEmulatorDoesNotKnowFailsNamingItAndTheKernel() {
        String ptx = """
                .version 9.0
                .target sm_75
                .address_size 64
                .visible .entry odd(.param .u64 odd_param_0)
                {
                    .reg .b32 %r<4>;
                    lop3.b32 %r1, %r2, %r3, %r1, 0x96;
                    ret;
                }
                """;
        CudaException e = assertThrows(CudaException.class, () -> cuda.moduleLoadData(ptx));
        assertTrue(e.getMessage().contains("CUDA_ERROR_INVALID_PTX") && e.getMessage().contains("kernel odd")
                && e.getMessage().contains("lop3.b32"), e.getMessage());
    }

    @Test
    void anOutOfBoundsStoreIsAnIllegalAddressNamingTheKernel() {
        long fn = cuda.moduleGetFunction(module, "block_sum");
        long dx = upload(cuda, new float[256]), dout = cuda.memAlloc(4);
        CudaException e = assertThrows(CudaException.class,
                () -> launch(cuda, fn, 2, 256, 0, KernelArgs.of().pointer(dx).pointer(dout).i32(512)));
        assertTrue(e.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS") && e.getMessage().contains("block_sum"), e.getMessage());
    }

    @Test
    void anArgumentOfTheWrongKindIsRefusedNamingTheParameter() {
        long fn = cuda.moduleGetFunction(module, "block_sum");
        CudaException e = assertThrows(CudaException.class,
                () -> launch(cuda, fn, 1, 32, 0, KernelArgs.of().pointer(0).pointer(0).f32(1f)));
        assertTrue(e.getMessage().contains("parameter 2") && e.getMessage().contains("F32"), e.getMessage());
        assertArrayEquals(new float[0], new float[0]);
    }
}
