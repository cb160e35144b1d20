package dev.kiln.cpu;

import dev.kiln.graph.Philox;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.kiln.cpu.Check.*;
import static org.junit.jupiter.api.Assertions.*;

/** Softmax, cross-entropy, one-hot, dropout, batch norm and optimizer updates: both twins and the math. */
class RowKernelsTest {

    @Test void softmaxAndLogSoftmaxMatchTwinAndDoubleReference() {
        Random r = new Random(21);
        for (int cols : SIZES) {
            int rows = 3;
            float[] x = uniform(r, rows * cols, -30, 30);
            for (boolean log : new boolean[] {false, true}) {
                float[] ys = new float[rows * cols], yv = new float[rows * cols];
                SCALAR.softmax(log, x, 0, ys, 0, rows, cols);
                VEC.softmax(log, x, 0, yv, 0, rows, cols);
                for (int row = 0; row < rows; row++) {
                    double m = Double.NEGATIVE_INFINITY, s = 0;
                    for (int c = 0; c < cols; c++) m = Math.max(m, x[row * cols + c]);
                    for (int c = 0; c < cols; c++) s += Math.exp(x[row * cols + c] - m);
                    for (int c = 0; c < cols; c++) {
                        double z = x[row * cols + c] - m, e = log ? z - Math.log(s) : Math.exp(z) / s;
                        // log-softmax of -60 holds ~7 digits; softmax values are ≤ 1
                        double tol = log ? 4e-6 * (Math.abs(e) + 1) : 2e-6;
                        assertEquals(e, ys[row * cols + c], tol, "scalar cols=" + cols + " log=" + log);
                        assertEquals(e, yv[row * cols + c], tol, "vector cols=" + cols + " log=" + log);
                    }
                }
            }
        }
    }

    @Test void softmaxCrossEntropyMatchesTwinAndDoubleReference() {
        Random r = new Random(22);
        for (int cols : SIZES) {
            int rows = 4;
            float[] z = uniform(r, rows * cols, -8, 8), lab = uniform(r, rows * cols, 0, 1);
            float[] ys = new float[rows], yv = new float[rows];
            SCALAR.softmaxCrossEntropy(z, 0, lab, 0, ys, 0, rows, cols);
            VEC.softmaxCrossEntropy(z, 0, lab, 0, yv, 0, rows, cols);
            for (int row = 0; row < rows; row++) {
                double m = Double.NEGATIVE_INFINITY, s = 0, loss = 0, sl = 0;
                for (int c = 0; c < cols; c++) m = Math.max(m, z[row * cols + c]);
                for (int c = 0; c < cols; c++) s += Math.exp(z[row * cols + c] - m);
                for (int c = 0; c < cols; c++) { loss -= lab[row * cols + c] * (z[row * cols + c] - m - Math.log(s)); sl += lab[row * cols + c]; }
                // sums of up to 1024 terms of size ≤ 16 each
                double tol = 1e-6 * (Math.abs(loss) + 16 * sl) + 1e-6;
                assertEquals(loss, ys[row], tol, "scalar cols=" + cols);
                assertEquals(loss, yv[row], tol, "vector cols=" + cols);
            }
        }
    }

    @Test void oneHotSetsOneColumnPerRow() {
        float[] idx = {2, 0, 4, 4};
        float[] y = new float[4 * 5];
        VEC.oneHot(idx, 0, y, 0, 4, 5);
        float[] ys = new float[4 * 5];
        SCALAR.oneHot(idx, 0, ys, 0, 4, 5);
        for (int i = 0; i < 4; i++) for (int c = 0; c < 5; c++) assertEquals(c == (int) idx[i] ? 1f : 0f, y[i * 5 + c]);
        close("one-hot", ys, y, EXACT, 0);
    }

    @Test void oneHotRejectsABadIndexNamingValueAndPositionBeforeWriting() {
        for (float bad : new float[] {5f, -1f, 1.5f, Float.NaN}) {
            float[] idx = {1, 0, bad};
            float[] y = new float[15];
            y[0] = 7f;
            var e = assertThrows(IllegalArgumentException.class, () -> VEC.oneHot(idx, 0, y, 0, 3, 5));
            assertTrue(e.getMessage().contains(String.valueOf(bad)) && e.getMessage().contains("position 2"), e.getMessage());
            assertEquals(7f, y[0], "no partial write");
            assertThrows(IllegalArgumentException.class, () -> SCALAR.oneHot(idx, 0, y, 0, 3, 5));
        }
    }

    @Test void dropoutMaskIsBitIdenticalToPhiloxKeepAndKeepsAboutOneMinusRate() {
        Random r = new Random(23);
        int n = 20_000;
        float[] x = uniform(r, n, 0.5, 1.5);
        for (double rate : new double[] {0.0, 0.2, 0.5, 0.9}) {
            long seed = r.nextLong(), step = 17;
            float[] y = new float[n];
            VEC.dropout(x, 0, y, 0, n, rate, seed, step);
            float scale = (float) (1.0 / (1.0 - rate));
            int kept = 0;
            for (int i = 0; i < n; i++) {
                boolean keep = Philox.keep(seed, step, i, rate);
                assertEquals(keep ? x[i] * scale : 0f, y[i], "element " + i + " rate " + rate);
                if (keep) kept++;
            }
            // binomial: 4 standard deviations of n·rate·(1 - rate)
            assertEquals(1 - rate, kept / (double) n, 4 * Math.sqrt(rate * (1 - rate) / n) + 1e-12, "keep fraction at rate " + rate);
        }
    }

    @Test void dropoutOfAShareMatchesTheWhole() {
        Random r = new Random(24);
        float[] x = uniform(r, 1024, -1, 1), whole = new float[1024], part = new float[1024];
        VEC.dropout(x, 0, whole, 0, 1024, 0.3, 99L, 5L);
        for (int first : new int[] {0, 1, 3, 13, 207}) {
            int n = 1024 - first - 5;
            SCALAR.dropout(x, first, part, first, first, n, 0.3, 99L, 5L);
            close("share from " + first, whole, first, part, first, n, EXACT, 0);
        }
    }

    @Test void vectorDropoutMatchesScalarTwinBitForBitAtOddSizesAndOffsets() {
        Random r = new Random(26);
        int max = 1024 + 64;
        float[] x = uniform(r, max, -2, 2);
        // sizes below, at and past one vector iteration (4 elements per 64-bit lane); starts off a Philox block boundary
        for (int n : new int[] {1, 3, 4, 13, 16, 25, 31, 32, 33, 63, 64, 65, 207, 1024}) {
            for (int first : new int[] {0, 1, 2, 3, 5, 35}) {
                for (double rate : new double[] {0.0, 0.3, 0.9}) {
                    long seed = r.nextLong(), step = r.nextInt(1 << 20);
                    float[] ys = new float[max], yv = new float[max];
                    DropoutMask.apply(x, first, ys, first, first, n, rate, seed, step);
                    VectorDropout.apply(x, first, yv, first, first, n, rate, seed, step);
                    close("n " + n + " first " + first + " rate " + rate, ys, first, yv, first, n, EXACT, 0);
                    for (int i = 0; i < n; i++) {
                        assertEquals(Philox.keep(seed, step, first + i, rate), yv[first + i] != 0f, "keep of element " + (first + i));
                    }
                }
            }
        }
    }

    @Test void recordedDropoutMaskReplaysTheSameMaskOnAnotherTensorInBothTwins() {
        Random r = new Random(27);
        int total = 1024 + 77;
        float[] x = uniform(r, total, -2, 2), g = uniform(r, total, -2, 2);
        // whole-word shares as the lowering cuts them, then one ragged share ending at the tensor's end
        int[][] shares = {{0, 64}, {64, 640}, {704, total - 704}};
        for (double rate : new double[] {0.0, 0.3, 0.9}) {
            long seed = r.nextLong(), step = r.nextInt(1 << 20);
            long[] sb = new long[(total + 63) / 64], vb = new long[sb.length];
            java.util.Arrays.fill(sb, 0x5555_5555_5555_5555L); // stale bits from an earlier step must be overwritten
            java.util.Arrays.fill(vb, -1L);
            float[] ys = new float[total], yv = new float[total], gs = new float[total], gv = new float[total], expect = new float[total];
            for (int[] sh : shares) {
                SCALAR.dropout(x, sh[0], ys, sh[0], sh[0], sh[1], rate, seed, step, sb);
                VEC.dropout(x, sh[0], yv, sh[0], sh[0], sh[1], rate, seed, step, vb);
            }
            long valid = (1L << (total & 63)) - 1; // bits past the tensor's end are not the mask's
            sb[sb.length - 1] &= valid;
            vb[vb.length - 1] &= valid;
            assertArrayEquals(sb, vb, "recorded bits, rate " + rate);
            close("recording output, rate " + rate, ys, 0, yv, 0, total, EXACT, 0);
            for (int[] sh : shares) {
                SCALAR.dropoutReplay(g, sh[0], gs, sh[0], sh[0], sh[1], rate, sb);
                VEC.dropoutReplay(g, sh[0], gv, sh[0], sh[0], sh[1], rate, vb);
            }
            SCALAR.dropout(g, 0, expect, 0, total, rate, seed, step);
            close("scalar replay, rate " + rate, expect, 0, gs, 0, total, EXACT, 0);
            close("vector replay, rate " + rate, expect, 0, gv, 0, total, EXACT, 0);
            // odd starts within a word: the vector replay's reads straddle two words
            for (int first : new int[] {1, 13, 63, 65}) {
                float[] part = new float[total];
                VEC.dropoutReplay(g, first, part, first, first, total - first - 3, rate, vb);
                close("replay from " + first + ", rate " + rate, expect, first, part, first, total - first - 3, EXACT, 0);
            }
        }
    }

    @Test void batchNormMatchesTwinAndFormula() {
        Random r = new Random(25);
        for (int ch : SIZES) {
            int rows = 7;
            float[] x = uniform(r, rows * ch, -3, 3), mean = uniform(r, ch, -1, 1), var = uniform(r, ch, 0.1, 2),
                    gamma = uniform(r, ch, 0.5, 2), beta = uniform(r, ch, -1, 1);
            float[] ys = new float[rows * ch], yv = new float[rows * ch];
            SCALAR.batchNorm(x, 0, mean, 0, var, 0, gamma, 0, beta, 0, 1e-3, ys, 0, rows, ch);
            VEC.batchNorm(x, 0, mean, 0, var, 0, gamma, 0, beta, 0, 1e-3, yv, 0, rows, ch);
            close("batch norm ch=" + ch, ys, yv, EXACT, 0);
            for (int i = 0; i < rows * ch; i++) {
                int c = i % ch;
                double e = (x[i] - mean[c]) / Math.sqrt(var[c] + 1e-3) * gamma[c] + beta[c];
                assertEquals(e, ys[i], 1e-5 * (Math.abs(e) + 1), "batch norm formula");
            }
        }
    }

    @Test void sgdMatchesTwinAndPyTorchFormulaInDouble() {
        Random r = new Random(26);
        for (int n : SIZES) {
            for (double mu : new double[] {0, 0.9}) for (boolean nesterov : new boolean[] {false, true}) {
                float[] p0 = uniform(r, n, -1, 1), g = uniform(r, n, -1, 1), v0 = uniform(r, n, -1, 1);
                float[] ps = p0.clone(), pv = p0.clone(), vs = v0.clone(), vv = v0.clone();
                SCALAR.sgdUpdate(ps, 0, g, 0, vs, 0, n, 0.1f, mu, nesterov, 1e-2);
                VEC.sgdUpdate(pv, 0, g, 0, vv, 0, n, 0.1f, mu, nesterov, 1e-2);
                close("sgd p", ps, pv, EXACT, 0);
                close("sgd v", vs, vv, EXACT, 0);
                for (int i = 0; i < n; i++) {
                    double gi = g[i] + 1e-2 * p0[i], v = mu * v0[i] + gi;
                    double d = mu == 0 ? gi : nesterov ? gi + mu * v : v;
                    assertEquals(p0[i] - 0.1f * d, ps[i], 1e-6, "sgd formula mu=" + mu + " nesterov=" + nesterov);
                    assertEquals(mu == 0 ? v0[i] : v, vs[i], 1e-6, "velocity");
                }
            }
        }
    }

    @Test void adamMatchesTwinAndPyTorchFormulaInDouble() {
        Random r = new Random(27);
        for (int n : SIZES) {
            for (boolean decoupled : new boolean[] {false, true}) {
                float[] p0 = uniform(r, n, -1, 1), g = uniform(r, n, -1, 1), m0 = uniform(r, n, -0.1, 0.1), v0 = uniform(r, n, 0, 0.01);
                float[] ps = p0.clone(), pv = p0.clone(), ms = m0.clone(), mv = m0.clone(), vs = v0.clone(), vv = v0.clone();
                long t = 3;
                SCALAR.adamUpdate(ps, 0, g, 0, ms, 0, vs, 0, n, 1e-3f, t, 0.9, 0.999, 1e-8, 0.01, decoupled);
                VEC.adamUpdate(pv, 0, g, 0, mv, 0, vv, 0, n, 1e-3f, t, 0.9, 0.999, 1e-8, 0.01, decoupled);
                close("adam p", ps, pv, EXACT, 0);
                close("adam m", ms, mv, EXACT, 0);
                close("adam v", vs, vv, EXACT, 0);
                double lr = 1e-3f;
                for (int i = 0; i < n; i++) {
                    double p = decoupled ? p0[i] * (1 - lr * 0.01) : p0[i];
                    double gi = decoupled ? g[i] : g[i] + 0.01 * p0[i];
                    double m = 0.9 * m0[i] + 0.1 * gi, v = 0.999 * v0[i] + 0.001 * gi * gi;
                    double e = p - lr / (1 - Math.pow(0.9, t)) * m / (Math.sqrt(v) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8);
                    // the step is ≤ ~lr·3; float rounding of p (≤ 1) dominates
                    assertEquals(e, ps[i], 2e-7, "adam formula decoupled=" + decoupled);
                    assertEquals(m, ms[i], 1e-7, "first moment");
                    assertEquals(v, vs[i], 1e-8, "second moment");
                }
            }
        }
    }
}
