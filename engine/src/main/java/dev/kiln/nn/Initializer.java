package dev.kiln.nn;

import dev.kiln.tensor.Shape;

import java.util.SplittableRandom;

/**
 * Weight initialisers with Keras's definitions. Fans: for [in, out] fan_in = in, fan_out = out;
 * for conv filters [kh, kw, cin, cout] fan_in = kh·kw·cin, fan_out = kh·kw·cout.
 * The normal variants draw from a normal truncated at two standard deviations, scaled as Keras does.
 */
public enum Initializer {
    GLOROT_UNIFORM, GLOROT_NORMAL, HE_UNIFORM, HE_NORMAL, ZEROS, ONES;

    public float[] sample(Shape shape, SplittableRandom r) {
        float[] v = new float[shape.size()];
        double fanIn, fanOut;
        if (shape.rank() == 0) { fanIn = fanOut = 1; }
        else if (shape.rank() == 1) { fanIn = fanOut = shape.dim(0); }
        else {
            double receptive = shape.sizeOf(0, shape.rank() - 2);
            fanIn = shape.dim(-2) * receptive;
            fanOut = shape.dim(-1) * receptive;
        }
        switch (this) {
            case ZEROS -> {}
            case ONES -> java.util.Arrays.fill(v, 1f);
            case GLOROT_UNIFORM -> uniform(v, Math.sqrt(6 / (fanIn + fanOut)), r);
            case HE_UNIFORM -> uniform(v, Math.sqrt(6 / fanIn), r);
            case GLOROT_NORMAL -> truncatedNormal(v, Math.sqrt(2 / (fanIn + fanOut)), r);
            case HE_NORMAL -> truncatedNormal(v, Math.sqrt(2 / fanIn), r);
        }
        return v;
    }

    private static void uniform(float[] v, double limit, SplittableRandom r) {
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble(-limit, limit);
    }

    // Keras divides by 0.8796..., the std of a unit normal truncated at ±2, so the result has the target variance
    private static void truncatedNormal(float[] v, double std, SplittableRandom r) {
        double s = std / 0.87962566103423978;
        for (int i = 0; i < v.length; i++) {
            double g;
            do { g = gaussian(r); } while (Math.abs(g) > 2);
            v[i] = (float) (g * s);
        }
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }

    public String kerasName() {
        return switch (this) {
            case GLOROT_UNIFORM -> "GlorotUniform"; case GLOROT_NORMAL -> "GlorotNormal";
            case HE_UNIFORM -> "HeUniform"; case HE_NORMAL -> "HeNormal";
            case ZEROS -> "Zeros"; case ONES -> "Ones";
        };
    }
}
