package dev.kiln.cpu;

/**
 * dx of a training batch norm ({@link dev.kiln.graph.BatchNormGrad}) on x, dy: [rows, C] (channel last):
 * {@code dx = gamma·invStd / rows · (rows·dy - Σdy - xhat·Σ(dy·xhat))}, xhat = (x - mean)·invStd. The CPU meets this
 * op only in programs compiled without {@code expand_batch_norm_grad} (its default pipeline expands it into the
 * vectorised, fused composed ops), so a plain scalar loop serves: the two sums of each channel in double, in row
 * order, so the result does not depend on threads or the JIT. One per instruction: its per-channel sums are made
 * once, so a step allocates nothing.
 */
public final class BatchNormGradScalar {
    private final int channels;
    private final double[] sumDy, sumDyXhat, invStd;

    public BatchNormGradScalar(int channels) {
        this.channels = channels;
        this.sumDy = new double[channels];
        this.sumDyXhat = new double[channels];
        this.invStd = new double[channels];
    }

    public void backward(float[] x, int xOff, float[] dy, int dyOff, float[] mean, int mOff, float[] var, int vOff,
                         float[] gamma, int gOff, double eps, float[] dx, int dxOff, int rows) {
        java.util.Arrays.fill(sumDy, 0);
        java.util.Arrays.fill(sumDyXhat, 0);
        for (int c = 0; c < channels; c++) invStd[c] = 1 / Math.sqrt(var[vOff + c] + eps);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < channels; c++) {
                double g = dy[dyOff + r * channels + c];
                sumDy[c] += g;
                sumDyXhat[c] += g * (x[xOff + r * channels + c] - mean[mOff + c]) * invStd[c];
            }
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < channels; c++) {
                int i = r * channels + c;
                double xhat = (x[xOff + i] - mean[mOff + c]) * invStd[c];
                dx[dxOff + i] = (float) (gamma[gOff + c] * invStd[c] / rows * ((double) rows * dy[dyOff + i] - sumDy[c] - xhat * sumDyXhat[c]));
            }
        }
    }
}
