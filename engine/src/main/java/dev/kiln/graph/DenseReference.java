package dev.kiln.graph;

import dev.kiln.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@link Interpreter}'s meaning of the non-spatial ops over flat row-major double arrays: elementwise with
 * broadcasting, fused chains, reductions, movement, matrix products, normalisation, dropout and softmax. Plain
 * loops that read like the math; convolution and pooling are in {@link SpatialReference}. Stateless: the
 * interpreter holds the variables and dispatches here.
 */
final class DenseReference {
    private DenseReference() {}

    // ------------------------------------------------------------------ elementwise

    static double[] unary(UnaryFn fn, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < y.length; i++) y[i] = fn.apply(x[i]);
        return y;
    }

    static double[] binary(BinaryFn fn, double[] a, Shape as, double[] b, Shape bs, Shape out) {
        int[] ai = broadcastIndex(as, out), bi = broadcastIndex(bs, out);
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) y[i] = fn.apply(a[ai[i]], b[bi[i]]);
        return y;
    }

    static double[] where(double[] c, Shape cs, double[] a, Shape as, double[] b, Shape bs, Shape out) {
        int[] ci = broadcastIndex(cs, out), ai = broadcastIndex(as, out), bi = broadcastIndex(bs, out);
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) y[i] = c[ci[i]] != 0 ? a[ai[i]] : b[bi[i]];
        return y;
    }

    /** For each element of {@code out} (row-major), the element of {@code in} it reads under NumPy broadcasting. */
    static int[] broadcastIndex(Shape in, Shape out) {
        int rank = out.rank(), lead = rank - in.rank();
        int[] inStride = new int[rank];
        int[] s = in.strides();
        for (int d = lead; d < rank; d++) inStride[d] = in.dim(d - lead) == 1 ? 0 : s[d - lead];
        int[] map = new int[out.size()];
        int[] idx = new int[rank];
        int[] dims = out.dims();
        for (int i = 0; i < map.length; i++) {
            int src = 0;
            for (int d = 0; d < rank; d++) src += idx[d] * inStride[d];
            map[i] = src;
            increment(idx, dims);
        }
        return map;
    }

    /** Advances a row-major multi-index by one. */
    static void increment(int[] idx, int[] dims) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < dims[d]) return;
            idx[d] = 0;
        }
    }

    static double[] fused(Fused f, double[][] operands, List<Node> inputs) {
        Shape shape = f.shape();
        List<double[]> vals = new ArrayList<>();
        for (int i = 0; i < operands.length; i++) vals.add(broadcast(operands[i], inputs.get(i).shape(), shape));
        for (Fused.Step step : f.steps()) {
            List<Integer> args = step.args();
            double[] y = new double[shape.size()];
            switch (step.op()) {
                case Unary u -> { double[] x = vals.get(args.get(0)); for (int i = 0; i < y.length; i++) y[i] = u.fn().apply(x[i]); }
                case Binary b -> {
                    double[] x0 = vals.get(args.get(0)), x1 = vals.get(args.get(1));
                    for (int i = 0; i < y.length; i++) y[i] = b.fn().apply(x0[i], x1[i]);
                }
                case Where w -> {
                    double[] c = vals.get(args.get(0)), x0 = vals.get(args.get(1)), x1 = vals.get(args.get(2));
                    for (int i = 0; i < y.length; i++) y[i] = c[i] != 0 ? x0[i] : x1[i];
                }
            }
            vals.add(y);
        }
        return vals.get(vals.size() - 1);
    }

    // ------------------------------------------------------------------ reductions and movement

    static double[] reduce(Reduce r, double[] x, Shape xs) {
        Shape kept = r.keptShape(xs);
        double[] y = new double[kept.size()];
        if (r.fn() == ReduceFn.MAX) Arrays.fill(y, Double.NEGATIVE_INFINITY);
        // the output element of x's element i: its multi-index with the reduced axes set to 0
        int[] keptStride = kept.strides();
        for (int a : r.axes()) keptStride[a] = 0;
        int[] idx = new int[xs.rank()];
        int[] dims = xs.dims();
        for (int i = 0; i < x.length; i++) {
            int o = 0;
            for (int d = 0; d < idx.length; d++) o += idx[d] * keptStride[d];
            switch (r.fn()) {
                case SUM, MEAN -> y[o] += x[i];
                case MAX -> y[o] = Math.max(y[o], x[i]);
            }
            increment(idx, dims);
        }
        if (r.fn() == ReduceFn.MEAN) {
            int count = r.count(xs);
            for (int o = 0; o < y.length; o++) y[o] /= count;
        }
        return y;
    }

    static double[] transpose(Transpose t, double[] x, Shape xs, Shape out) {
        int[] xStride = xs.strides();
        int[] idx = new int[out.rank()];
        int[] dims = out.dims();
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) {
            int src = 0;
            for (int d = 0; d < idx.length; d++) src += idx[d] * xStride[t.perm().get(d)]; // out axis d is in axis perm[d]
            y[i] = x[src];
            increment(idx, dims);
        }
        return y;
    }

    static double[] broadcast(double[] x, Shape xs, Shape out) {
        int[] map = broadcastIndex(xs, out);
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) y[i] = x[map[i]];
        return y;
    }

    static double[] slice(Slice s, double[] x, Shape xs, Shape out) {
        int[] xStride = xs.strides();
        int[] idx = new int[out.rank()];
        int[] dims = out.dims();
        double[] y = new double[out.size()];
        for (int i = 0; i < y.length; i++) {
            int src = 0;
            for (int d = 0; d < idx.length; d++) src += (idx[d] + s.start().get(d)) * xStride[d];
            y[i] = x[src];
            increment(idx, dims);
        }
        return y;
    }

    static double[] concat(Concat c, double[][] xs, List<Node> inputs, Shape out) {
        int axis = c.axis();
        int outer = out.sizeOf(0, axis), inner = out.sizeOf(axis + 1, out.rank()), outAxis = out.dim(axis);
        double[] y = new double[out.size()];
        int offset = 0;
        for (int k = 0; k < xs.length; k++) {
            int len = inputs.get(k).shape().dim(axis);
            for (int o = 0; o < outer; o++) {
                for (int a = 0; a < len; a++) {
                    for (int j = 0; j < inner; j++) {
                        y[(o * outAxis + offset + a) * inner + j] = xs[k][(o * len + a) * inner + j];
                    }
                }
            }
            offset += len;
        }
        return y;
    }

    static double[] pad(Pad p, double[] x, Shape xs, Shape out) {
        double[] y = new double[out.size()];
        Arrays.fill(y, p.value());
        int[] yStride = out.strides();
        int[] idx = new int[xs.rank()];
        int[] dims = xs.dims();
        for (int i = 0; i < x.length; i++) {
            int dst = 0;
            for (int d = 0; d < idx.length; d++) dst += (idx[d] + p.before().get(d)) * yStride[d];
            y[dst] = x[i];
            increment(idx, dims);
        }
        return y;
    }

    // ------------------------------------------------------------------ linear algebra

    static double[] matmul(MatMul mm, double[] a, Shape as, double[] b, Shape bs, Shape out) {
        int m = out.dim(-2), n = out.dim(-1);
        int k = mm.transposeA() ? as.dim(-2) : as.dim(-1);
        Shape batch = MatMul.batchOf(out);
        int[] aBatch = broadcastIndex(MatMul.batchOf(as), batch), bBatch = broadcastIndex(MatMul.batchOf(bs), batch);
        double[] c = new double[out.size()];
        for (int t = 0; t < batch.size(); t++) {
            int aOff = aBatch[t] * m * k, bOff = bBatch[t] * k * n, cOff = t * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        double aip = mm.transposeA() ? a[aOff + p * m + i] : a[aOff + i * k + p]; // A [M,K] or Aᵀ stored [K,M]
                        double bpj = mm.transposeB() ? b[bOff + j * k + p] : b[bOff + p * n + j]; // B [K,N] or Bᵀ stored [N,K]
                        acc += aip * bpj;
                    }
                    c[cOff + i * n + j] = acc;
                }
            }
        }
        return c;
    }

    // ------------------------------------------------------------------ normalisation, dropout, softmax

    static double[] batchNorm(BatchNorm b, double[] x, double[] mean, double[] var, double[] gamma, double[] beta, Shape out) {
        int channels = out.dim(-1);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = i % channels; // channel is the last axis
            y[i] = (x[i] - mean[c]) / Math.sqrt(var[c] + b.epsilon()) * gamma[c] + beta[c];
        }
        return y;
    }

    /** {@link BatchNormGrad}'s formula, each channel's two sums over its rows in row order. */
    static double[] batchNormGrad(BatchNormGrad b, double[] x, double[] dy, double[] mean, double[] var, double[] gamma, Shape out) {
        int channels = out.dim(-1), rows = x.length / channels;
        double[] sumDy = new double[channels], sumDyXhat = new double[channels], invStd = new double[channels];
        for (int c = 0; c < channels; c++) invStd[c] = 1 / Math.sqrt(var[c] + b.epsilon());
        for (int i = 0; i < x.length; i++) {
            int c = i % channels;
            sumDy[c] += dy[i];
            sumDyXhat[c] += dy[i] * (x[i] - mean[c]) * invStd[c];
        }
        double[] dx = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = i % channels;
            double xhat = (x[i] - mean[c]) * invStd[c];
            dx[i] = gamma[c] * invStd[c] / rows * (rows * dy[i] - sumDy[c] - xhat * sumDyXhat[c]);
        }
        return dx;
    }

    static double[] dropout(InvertedDropout d, double[] x, double[] step) {
        long t = (long) step[0];
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Philox.keep(d.seed(), t, i, d.rate()) ? x[i] / (1 - d.rate()) : 0;
        return y;
    }

    static double[] softmax(boolean log, double[] x, Shape out) {
        int classes = out.dim(-1);
        double[] y = new double[x.length];
        for (int row = 0; row < x.length; row += classes) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) max = Math.max(max, x[row + c]);
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(x[row + c] - max);
            for (int c = 0; c < classes; c++) {
                double z = x[row + c] - max;
                y[row + c] = log ? z - Math.log(sum) : Math.exp(z) / sum;
            }
        }
        return y;
    }

    static double[] softmaxCrossEntropy(double[] logits, double[] labels, Shape zs) {
        int classes = zs.dim(-1);
        double[] logp = softmax(true, logits, zs);
        double[] y = new double[logits.length / classes];
        for (int r = 0; r < y.length; r++) {
            double loss = 0;
            for (int c = 0; c < classes; c++) loss -= labels[r * classes + c] * logp[r * classes + c];
            y[r] = loss;
        }
        return y;
    }

    static double[] oneHot(OneHot o, double[] indices, Node n) {
        int depth = o.depth();
        double[] y = new double[indices.length * depth];
        for (int i = 0; i < indices.length; i++) {
            double v = indices[i];
            if (v != Math.rint(v) || v < 0 || v >= depth) {
                throw new IllegalArgumentException("one_hot: value " + v + " at position " + i + " is not a whole number in [0, " + depth + ") (" + n.describe() + ")");
            }
            y[i * depth + (int) v] = 1;
        }
        return y;
    }
}
